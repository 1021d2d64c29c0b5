import Foundation
import FuzzSupport

#if FUZZING
/// libFuzzer's entry point; `FUZZ_TARGET` names the reader under test.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzEntry.target.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The executable's entry point under SwiftPM, which links `main` to
/// `<module>_main`: it hands over to libFuzzer's driver.
@_cdecl("homerules_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.run(argc, argv) { data, size in fuzzOneInput(data, size) }
}

enum FuzzEntry {
    static let target: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("set FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return target
    }()
}
#else
/// Without the fuzzer: `homerules-fuzz TARGET FILE...` runs the target on
/// each file, to replay a corpus or a crash found earlier.
@main
struct ReplayFiles {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            FuzzDriver.exitWithUsage("homerules-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE...")
        }
        try FuzzDriver.replay(arguments.dropFirst()) { target.run($0) }
    }
}
#endif
