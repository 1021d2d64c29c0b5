import Foundation

/// What the fuzz executables share: handing over to libFuzzer's driver, and,
/// built without it, replaying inputs from files.
///
/// Each executable defines its own `LLVMFuzzerTestOneInput` and
/// `<module>_main` (C symbols are per program); everything else is here.
public enum FuzzDriver {
    /// libFuzzer's callback: one input, 0 when it was handled.
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

    #if FUZZING
    /// Runs libFuzzer's driver with the program's arguments.
    public static func run(
        _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, callback: Callback
    ) -> Int32 {
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments, callback)
    }
    #endif

    /// Runs `body` on the contents of each file named in `paths`.
    public static func replay(_ paths: some Sequence<String>, _ body: (UnsafeRawBufferPointer) -> Void) throws {
        for path in paths {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            data.withUnsafeBytes { body($0) }
        }
    }

    /// Prints `usage` to standard error and exits with EX_USAGE.
    public static func exitWithUsage(_ usage: String) -> Never {
        FileHandle.standardError.write(Data("usage: \(usage)\n".utf8))
        exit(64)
    }
}

#if FUZZING
/// libFuzzer's driver, for a program whose `main` is its own.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzDriver.Callback
) -> Int32
#endif
