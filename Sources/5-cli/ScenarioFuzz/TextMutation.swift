/// The mutations of the text itself: what no tree can hold (broken indentation, tabs, stray characters, a cut).
struct TextMutation {
    let random: FuzzRandom

    /// Characters and fragments that mean something to YAML or to the loader, and some that should never appear:
    /// control characters, a byte-order mark, line separators, zero-width and bidirectional marks, combining
    /// marks, emoji (several scalars), the private-use characters the loader uses to rename duplicate keys.
    static let junk = [
        "\t", "\u{0}", "\u{7}", "\u{1B}", "\r", "\r\n", "\u{FEFF}", "\u{2028}", "\u{2029}", "\u{85}", "\u{200B}",
        "\u{202E}", "é", "e\u{301}", "🙂", "👩‍👩‍👧", "\u{FFFD}", "\u{E000}", "\u{E001}", ":", ": ", "{", "}", "[",
        "]", ",", "#", "&a ", "*a", "!", "!!str ", "!!int ", "%", "@", "`", "|", ">", "- ", "? ", "\"", "'", "\\",
        "---\n", "...\n", "<<: ", "~", "\n",
    ]

    func apply(_ mutation: MutationOperator, to text: String) -> (String, String) {
        switch mutation {
        case .truncate:
            let characters = Array(text)
            let at = random.below(characters.count + 1)
            return (String(characters[..<at]), "cut the text after character \(at) of \(characters.count)")
        case .junk:
            var characters = Array(text)
            var inserted: [String] = []
            for _ in 0...random.below(3) {
                let piece = random.pick(Self.junk)
                characters.insert(contentsOf: piece, at: random.below(characters.count + 1))
                inserted.append(
                    piece.unicodeScalars.map { "U+\(String($0.value, radix: 16, uppercase: true))" }
                        .joined(separator: " "))
            }
            return (String(characters), "insert \(inserted.joined(separator: ", "))")
        case .tabIndent:
            var lines = Self.lines(text)
            let indented = lines.indices.filter { lines[$0].hasPrefix(" ") }
            guard !indented.isEmpty else { return (text, "no indented line for a tab") }
            let line = random.pick(indented)
            let spaces = lines[line].prefix { $0 == " " }.count
            let tabs = random.oneIn(2) ? 1 : max(1, spaces / 2)
            lines[line] = String(repeating: "\t", count: tabs) + lines[line].dropFirst(random.oneIn(2) ? spaces : 1)
            return (lines.joined(separator: "\n"), "indent line \(line + 1) with tabs")
        case .reindent:
            var lines = Self.lines(text)
            let line = random.below(lines.count)
            let change = random.pick([-4, -2, -1, 1, 2, 3, 8])
            if change > 0 {
                lines[line] = String(repeating: " ", count: change) + lines[line]
            } else {
                let spaces = lines[line].prefix { $0 == " " }.count
                lines[line] = String(lines[line].dropFirst(min(spaces, -change)))
            }
            return (lines.joined(separator: "\n"), "indent line \(line + 1) by \(change)")
        case .lines:
            var lines = Self.lines(text)
            let line = random.below(lines.count)
            switch random.below(3) {
            case 0:
                lines.remove(at: line)
                return (lines.joined(separator: "\n"), "delete line \(line + 1)")
            case 1:
                lines.insert(lines[line], at: line)
                return (lines.joined(separator: "\n"), "repeat line \(line + 1)")
            default:
                let other = random.below(lines.count)
                lines.swapAt(line, other)
                return (lines.joined(separator: "\n"), "swap lines \(line + 1) and \(other + 1)")
            }
        default:
            return (text, "")
        }
    }

    /// The text's lines, split at `\n` only (other breaks stay inside lines, as junk).
    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}
