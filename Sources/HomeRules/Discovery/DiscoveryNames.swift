import Foundation
import MQTTTopics

/// Turning the names devices announce into ids and member names that the
/// device loader accepts: ASCII letters, digits, `-` and `_`.
public enum DiscoveryNames {
    /// `Kitchen Plug` → `kitchen-plug`, `Température` → `temperature`:
    /// lowercased, accents folded, spaces and dots to `-`, everything else
    /// that an id cannot hold dropped. Empty when nothing is left.
    public static func slug(_ text: String) -> String {
        let folded = text.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "en_US_POSIX"))
        var slug = ""
        for scalar in folded.lowercased().unicodeScalars {
            switch scalar {
            case "a"..."z", "0"..."9", "_": slug.unicodeScalars.append(scalar)
            case " ", "-", ".", "/", ":":
                if !slug.isEmpty, !slug.hasSuffix("-") { slug += "-" }
            default: break
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug
    }

    /// `name`, or `name-2`, `name-3`, ... : the first that `taken` does not
    /// hold, which is then added to it.
    public static func unique(_ name: String, in taken: inout Set<String>) -> String {
        var candidate = name
        var number = 2
        while taken.contains(candidate) {
            candidate = "\(name)-\(number)"
            number += 1
        }
        taken.insert(candidate)
        return candidate
    }

    /// Why `topic` cannot be a topic name in a device file (a wildcard,
    /// U+0000, too long), or nil.
    static func topicProblem(_ topic: String) -> String? {
        do {
            try Topic.validateName(topic)
            return nil
        } catch {
            return error.description
        }
    }
}
