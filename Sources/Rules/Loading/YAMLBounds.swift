import CYaml

/// The most a YAML file of HomeRules may hold, checked before any of it is
/// built into nodes.
///
/// Aliases make a file larger than its text: ten lines of `&a [*b, *b, ...]`
/// stand for billions of nodes ("billion laughs"), and a chain of aliases
/// nests as deep as it is long. Everything that walks a document (Yams'
/// duplicate-key check, the rule and device parsers) would then run out of
/// memory or stack. So the file is first read as a flat stream of libyaml
/// events, which costs memory in proportion to its text, and refused if the
/// document it describes is too deep or too large once aliases are expanded.
public enum YAMLBounds {
    /// Levels of mappings and lists, counting what an alias brings in where
    /// it is used. A home's deepest files (conditions inside conditions)
    /// use about a dozen.
    public static let maximumDepth = 64

    /// Nodes in one file, counting an alias's anchored node again at every
    /// use: about ten times what a home of a thousand rules needs.
    public static let maximumNodes = 100_000

    /// What a file nested too deep is told, by this check or by libyaml's own.
    static func tooDeepMessage(limit: Int = maximumDepth, countingAliases: Bool) -> String {
        let counting = countingAliases ? " (counting what aliases bring in)" : ""
        return "YAML nested deeper than \(limit) levels\(counting); HomeRules reads at most \(limit)"
    }

    /// A file beyond a bound: what to say, and where.
    public struct Violation: Error, Sendable, Equatable {
        public var message: String
        public var line: Int
        public var column: Int
    }

    /// The first place where `text` goes beyond a bound, or nil if it stays
    /// within them. Syntax errors are not reported here: the parser that
    /// builds the nodes reports them with its own wording.
    public static func violation(in text: String, maximumDepth: Int = maximumDepth,
                                 maximumNodes: Int = maximumNodes) -> Violation? {
        var counter = ExpansionCounter(maximumDepth: maximumDepth, maximumNodes: maximumNodes)
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return nil }
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                let type = event.type
                if type == YAML_STREAM_END_EVENT { return nil }
                if let violation = counter.take(event) { return violation }
            }
            return nil
        }
    }
}

/// Sizes and heights of the document as its events go by.
private struct ExpansionCounter {
    /// A node's size with aliases expanded, and its height (1 for a scalar).
    struct Extent {
        var nodes: Int
        var height: Int
    }

    /// An open mapping or list: what it holds so far, and its anchor.
    struct OpenCollection {
        var extent = Extent(nodes: 1, height: 1)
        var anchor: String?
    }

    let maximumDepth: Int
    let maximumNodes: Int
    var open: [OpenCollection] = []
    var anchors: [String: Extent] = [:]
    var nodes = 0

    mutating func take(_ event: yaml_event_t) -> YAMLBounds.Violation? {
        let mark = event.start_mark
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            nodes = 0
            return nil
        case YAML_SCALAR_EVENT:
            return add(Extent(nodes: 1, height: 1), anchor: Self.text(event.data.scalar.anchor), at: mark)
        case YAML_ALIAS_EVENT:
            // An undefined alias is the parser's error to report.
            guard let name = Self.text(event.data.alias.anchor), let extent = anchors[name] else { return nil }
            return add(extent, anchor: nil, at: mark)
        case YAML_SEQUENCE_START_EVENT:
            return openCollection(anchor: Self.text(event.data.sequence_start.anchor), at: mark)
        case YAML_MAPPING_START_EVENT:
            return openCollection(anchor: Self.text(event.data.mapping_start.anchor), at: mark)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let closed = open.popLast() else { return nil }
            if let anchor = closed.anchor { anchors[anchor] = closed.extent }
            include(closed.extent)
            return nil
        default:
            return nil
        }
    }

    private mutating func openCollection(anchor: String?, at mark: yaml_mark_t) -> YAMLBounds.Violation? {
        if let violation = count(Extent(nodes: 1, height: 1), at: mark) { return violation }
        open.append(OpenCollection(anchor: anchor))
        return nil
    }

    private mutating func add(_ extent: Extent, anchor: String?, at mark: yaml_mark_t) -> YAMLBounds.Violation? {
        if let violation = count(extent, at: mark) { return violation }
        if let anchor { anchors[anchor] = extent }
        include(extent)
        return nil
    }

    /// Counts a node that starts at the current level against both bounds.
    private mutating func count(_ extent: Extent, at mark: yaml_mark_t) -> YAMLBounds.Violation? {
        if open.count + extent.height > maximumDepth {
            return violation(YAMLBounds.tooDeepMessage(limit: maximumDepth, countingAliases: true), at: mark)
        }
        nodes += extent.nodes
        if nodes > maximumNodes {
            return violation("this document expands to more than \(Formatting.grouped(maximumNodes)) YAML nodes (counting an alias again at every use); HomeRules reads at most \(Formatting.grouped(maximumNodes))", at: mark)
        }
        return nil
    }

    /// Adds a finished node to the collection that holds it.
    private mutating func include(_ extent: Extent) {
        guard !open.isEmpty else { return }
        open[open.count - 1].extent.nodes += extent.nodes
        open[open.count - 1].extent.height = max(open[open.count - 1].extent.height, extent.height + 1)
    }

    private func violation(_ message: String, at mark: yaml_mark_t) -> YAMLBounds.Violation {
        YAMLBounds.Violation(message: message, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
