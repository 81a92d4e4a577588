import Foundation

/// Reads the tables of the repository's Markdown docs, for tests that check them against a registry or a
/// declaration.
public enum MarkdownTable {
    /// A table row's cells, trimmed (the leading and trailing `|` dropped).
    public static func cells(_ line: some StringProtocol) -> [String] {
        line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The body rows of the first table after the line `heading` (before the next heading), as cells; nil when
    /// the heading is missing. The header and separator rows are dropped.
    public static func rows(after heading: String, in document: String) -> [[String]]? {
        let lines = document.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: heading) else { return nil }
        var rows: [[String]] = []
        for line in lines[(start + 1)...] {
            if line.hasPrefix("#") { break }
            if line.hasPrefix("|") {
                rows.append(cells(line))
            } else if !rows.isEmpty {
                break
            }
        }
        return Array(rows.dropFirst(2))
    }

    /// Every `code` span of a cell, in order.
    public static func codeSpans(_ cell: String) -> [String] {
        cell.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }
            .map { String($0.element) }
    }
}
