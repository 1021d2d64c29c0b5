/// YAML files that are small as text and huge as documents: what a careless
/// or hostile user may drop into a watched folder.
public enum HostileYAML {
    /// A rule list followed by `- &c2 {not: [*c1]}` ... `&cN`: each line
    /// nests the previous one two levels deeper, so the text is shallow and
    /// the document `2 × length` levels deep. `&c<i>` is on line `i + 3`.
    public static func aliasChain(length: Int) -> String {
        var lines = ["- id: chain", "  when: { mqtt: lab/in }", "  then: []", "- &c1 {device: lamp, is: online}"]
        for index in 2...length { lines.append("- &c\(index) {not: [*c\(index - 1)]}") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "Billion laughs": ten lines, each using the previous anchor nine
    /// times, 9^10 nodes in about 600 bytes. `l<i>` is on line `i + 1`.
    public static let billionLaughs: String = {
        var lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...9 {
            lines.append("l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }()
}
