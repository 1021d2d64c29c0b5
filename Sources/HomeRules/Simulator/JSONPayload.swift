import EventLog
import Rules

/// A JSON object built from values placed at paths: how a device that
/// reports several readings in one message (Zigbee2MQTT, Tasmota's
/// `tele/<t>/SENSOR`) writes its payload.
///
/// Members keep the order in which they were first set, so payloads read
/// like the device definition. A later value replaces whatever sat at its
/// path or in the way of it.
struct JSONPayload: Sendable {
    /// A value at the end of a path.
    enum Leaf: Sendable, Hashable {
        case number(Double)
        case bool(Bool)
        case string(String)
    }

    private indirect enum Node: Sendable {
        case null
        case leaf(Leaf)
        case object([(key: String, value: Node)])
        case array([Node])

        var rendered: String {
            switch self {
            case .null: "null"
            case .leaf(let leaf): leaf.rendered
            case .object(let members):
                "{" + members.map { JSONString.quoted($0.key) + ":" + $0.value.rendered }.joined(separator: ",") + "}"
            case .array(let elements):
                "[" + elements.map(\.rendered).joined(separator: ",") + "]"
            }
        }
    }

    private var root = Node.object([])

    init() {}

    /// The document holding just `leaf` at `path`.
    init(_ leaf: Leaf, at path: JSONPath) {
        set(leaf, at: path)
    }

    mutating func set(_ leaf: Leaf, at path: JSONPath) {
        root = Self.setting(.leaf(leaf), at: path.segments[...], in: root)
    }

    /// The compact JSON text.
    var text: String { root.rendered }

    private static func setting(_ value: Node, at path: ArraySlice<JSONPath.Segment>, in node: Node) -> Node {
        guard let segment = path.first else { return value }
        let rest = path.dropFirst()
        switch segment {
        case .key(let key):
            var members: [(key: String, value: Node)] = []
            if case .object(let existing) = node { members = existing }
            if let index = members.firstIndex(where: { $0.key == key }) {
                members[index].value = setting(value, at: rest, in: members[index].value)
            } else {
                members.append((key, setting(value, at: rest, in: .null)))
            }
            return .object(members)
        case .index(let index):
            var elements: [Node] = []
            if case .array(let existing) = node { elements = existing }
            while elements.count <= index { elements.append(.null) }
            elements[index] = setting(value, at: rest, in: elements[index])
            return .array(elements)
        }
    }
}

extension JSONPayload.Leaf {
    /// A sensor value as JSON: numbers and booleans as themselves.
    init(_ value: SensorValue) {
        switch value {
        case .number(let number): self = .number(number)
        case .boolean(let flag): self = .bool(flag)
        case .string(let text): self = .string(text)
        }
    }

    var rendered: String {
        switch self {
        case .number(let number) where number.isFinite: SensorValue.number(number).description
        case .number: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .string(let text): JSONString.quoted(text)
        }
    }

    /// The leaf as a plain (not JSON) payload: text unquoted.
    var text: String {
        if case .string(let text) = self { return text }
        return rendered
    }
}
