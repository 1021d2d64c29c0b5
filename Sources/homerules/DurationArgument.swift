import ArgumentParser
import Rules

/// A command-line duration written as in the YAML files: `3s`, `500ms`, `1m`.
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let duration: Duration
    /// As the user wrote it, for messages.
    let description: String

    init?(argument: String) {
        guard let duration = DurationSyntax.parse(argument), duration > .zero else { return nil }
        self.duration = duration
        self.description = argument
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

extension Duration {
    /// Whole milliseconds, for "confirmed in 42 ms".
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
