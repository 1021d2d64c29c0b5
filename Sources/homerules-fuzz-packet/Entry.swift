import Foundation
import FuzzSupport

#if FUZZING
/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    PacketRoundTrip.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The executable's entry point under SwiftPM, which links `main` to
/// `<module>_main`: it hands over to libFuzzer's driver.
@_cdecl("homerules_fuzz_packet_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.run(argc, argv) { data, size in fuzzOneInput(data, size) }
}
#else
/// Without the fuzzer: `homerules-fuzz-packet FILE...` decodes each file, to
/// replay a corpus or a crash found earlier.
@main
struct ReplayFiles {
    static func main() throws {
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else { FuzzDriver.exitWithUsage("homerules-fuzz-packet FILE...") }
        try FuzzDriver.replay(paths) { PacketRoundTrip.run($0) }
    }
}
#endif
