import Foundation

/// Writes a line to standard output at once: the long-running commands
/// (`watch`, `simulate`) are often piped, where `print` would hold lines
/// back in a buffer.
func printLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
