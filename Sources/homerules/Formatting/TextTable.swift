/// Rows of text in aligned columns, for output that people read.
///
/// Columns are separated by two spaces and padded to their widest cell;
/// the last column is not padded, so that lines carry no trailing blanks.
struct TextTable {
    var header: [String]?
    var rows: [[String]]

    init(header: [String]? = nil, rows: [[String]] = []) {
        self.header = header
        self.rows = rows
    }

    /// The table as lines ending in newlines; empty when there are no rows.
    func rendered() -> String {
        guard !rows.isEmpty else { return "" }
        let lines = (header.map { [$0] } ?? []) + rows
        let columnCount = lines.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columnCount)
        for line in lines {
            for (column, cell) in line.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        var output = ""
        for line in lines {
            var text = ""
            for (column, cell) in line.enumerated() {
                let isLast = column == line.count - 1
                text += isLast ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
            }
            while text.last == " " { text.removeLast() }
            output += text + "\n"
        }
        return output
    }
}
