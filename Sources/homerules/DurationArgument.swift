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

    /// Why a duration was refused, in words (ArgumentParser prints it after
    /// "The value ... is invalid for ...").
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `text`, or says what is wrong with it: options that take a
    /// duration use this with `parsing: .unconditional`, so that `-5s`
    /// reaches it instead of being taken for an option.
    static func parse(_ text: String) throws -> DurationArgument {
        if let parsed = DurationArgument(argument: text) { return parsed }
        if text.hasPrefix("-") { throw Invalid(description: "a duration cannot be negative") }
        if DurationSyntax.parse(text) != nil { throw Invalid(description: "a duration must be longer than 0") }
        throw Invalid(description: "write a number and a unit, such as 500ms, 3s, 1m or 1h30m")
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
