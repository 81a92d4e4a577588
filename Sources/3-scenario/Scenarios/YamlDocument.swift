import Yams

/// The YAML tree of a scenario file, with Yams' errors turned into located ``ScenarioError``s.
///
/// Yams refuses a mapping with a repeated key but reports only the key's first occurrence, without its path.
/// To report the repetition where it is, with its path, the first occurrence is renamed in a private copy of
/// the text (one character swapped for a private-use character, so every line and column stays put) and the
/// copy is parsed again; ``MappingReader`` then restores the name and finds the repetition itself.
struct YamlDocument {
    /// The root node; nil for a file with no document (empty, whitespace or comments only).
    let root: Node?
    /// Original names of renamed keys, by position.
    let renamedKeys: [SourcePosition: String]
    /// What to report if the loader somehow accepts the renamed copy: Yams' own finding.
    let duplicateError: ScenarioError?

    /// Renaming more keys than this means something is off; Yams' finding is reported instead.
    private static let maximumRenames = 64

    static func parse(_ text: String, file: String) throws(ScenarioError) -> YamlDocument {
        var scalars = Array(text.unicodeScalars)
        var copy = text
        var renamed: [SourcePosition: String] = [:]
        var duplicateError: ScenarioError?
        for attempt in 0...maximumRenames {
            do {
                let root = try Yams.compose(yaml: copy)
                return YamlDocument(root: root, renamedKeys: renamed, duplicateError: duplicateError)
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                let key = duplicates.first ?? ""
                let position = SourcePosition(line: context.mark.line, column: context.mark.column)
                let error = ScenarioError(
                    kind: .invalid, file: file, line: position.line, column: position.column, path: "",
                    message: duplicateMessage(duplicates.first))
                if duplicateError == nil { duplicateError = error }
                guard attempt < maximumRenames, renamed[position] == nil,
                    rename(key: key, at: position, in: &scalars, marker: attempt)
                else { throw duplicateError ?? error }
                renamed[position] = key
                var edited = String.UnicodeScalarView()
                edited.append(contentsOf: scalars)
                copy = String(edited)
            } catch let error as YamlError {
                // The renaming changed only one character of a key, so a new syntax error should not appear;
                // if one does, the duplicate is the true problem.
                throw duplicateError ?? convert(error, text: text, file: file)
            } catch {
                throw duplicateError
                    ?? ScenarioError(
                        kind: .invalid, file: file, line: 1, column: 1, path: "", message: "invalid YAML: \(error)")
            }
        }
        throw duplicateError
            ?? ScenarioError(
                kind: .invalid, file: file, line: 1, column: 1, path: "",
                message: "invalid YAML")
    }

    /// Yams names a key that is not a scalar `<uncovertable>` (sic).
    private static func duplicateMessage(_ key: String?) -> String {
        guard let key, key != "<uncovertable>" else { return "duplicate key; keys must be unique" }
        return "duplicate key `\(key)`; keys must be unique"
    }

    /// Swaps the key's first character at `position` for a private-use character; false if the text there is
    /// not the key as expected (an anchor, a tag, a complex key), in which case nothing changes.
    private static func rename(
        key: String, at position: SourcePosition, in scalars: inout [Unicode.Scalar],
        marker: Int
    ) -> Bool {
        guard var index = offset(of: position, in: scalars), index < scalars.count,
            let first = key.unicodeScalars.first,
            let replacement = Unicode.Scalar(0xE000 + UInt32(marker))
        else { return false }
        if scalars[index] == "\"" || scalars[index] == "'" {
            index += 1
            guard index < scalars.count, scalars[index] != scalars[index - 1], !isBreak(scalars[index]) else {
                return false
            }
        } else if scalars[index] != first {
            return false
        }
        scalars[index] = replacement
        return true
    }

    /// The index of the scalar at a libyaml line and column (both 1-based; a BOM is not counted).
    static func offset(of position: SourcePosition, in scalars: [Unicode.Scalar]) -> Int? {
        var line = 1
        var index = scalars.first == "\u{FEFF}" ? 1 : 0
        while line < position.line {
            guard index < scalars.count else { return nil }
            let scalar = scalars[index]
            index += 1
            if isBreak(scalar) {
                if scalar == "\r", index < scalars.count, scalars[index] == "\n" { index += 1 }
                line += 1
            }
        }
        guard position.column >= 1, position.column <= scalars.count - index + 1 else { return nil }
        let target = index + position.column - 1
        // The column must not run past the end of its line.
        if scalars[index..<target].contains(where: isBreak) { return nil }
        return target
    }

    private static func isBreak(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\n" || scalar == "\r" || scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    /// A Yams error as a located scenario error, with a hint for the classic tab mistake.
    static func convert(_ error: YamlError, text: String, file: String) -> ScenarioError {
        func located(_ found: SourcePosition, _ message: String) -> ScenarioError {
            let position = clamped(found, in: text)
            var message = message
            if lineHasTab(position, text: text) { message += "; YAML does not allow tabs for indentation, use spaces" }
            return ScenarioError(
                kind: .invalid, file: file, line: position.line, column: position.column,
                path: "", message: message)
        }
        // libyaml's wording reads "<context> at L:C, <problem>": "while parsing a flow sequence at 1:10,
        // did not find expected ',' or ']'".
        func described(_ problem: String, _ context: YamlError.Context?) -> String {
            guard let context else { return "invalid YAML: \(problem)" }
            return "invalid YAML: \(context.text) at \(context.mark.line):\(context.mark.column), \(problem)"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return located(SourcePosition(line: mark.line, column: mark.column), described(problem, context))
        case .reader(let problem, let offset, let value, _):
            let position =
                offset.flatMap { Self.position(ofCharacter: $0, in: text) } ?? SourcePosition(line: 1, column: 1)
            let code = value >= 0 ? " (character code \(value))" : ""
            return located(position, "invalid YAML: \(problem)\(code)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return located(
                SourcePosition(line: context.mark.line, column: context.mark.column),
                duplicateMessage(duplicates.first))
        default:
            return ScenarioError(
                kind: .invalid, file: file, line: 1, column: 1, path: "",
                message: "invalid YAML: \(error)")
        }
    }

    /// `position`, or the end of the text if it is past it. At the end of a text without a final line break,
    /// libyaml reports the line after the last one, which no editor has (found by the scenario fuzzer).
    static func clamped(_ position: SourcePosition, in text: String) -> SourcePosition {
        var lengths: [Int] = []
        var length = 0
        var previous: Unicode.Scalar = " "
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            defer { previous = scalar }
            if scalar == "\n" && previous == "\r" { continue }
            if isBreak(scalar) {
                lengths.append(length)
                length = 0
            } else if !(offset == 0 && scalar == "\u{FEFF}") {
                length += 1
            }
        }
        lengths.append(length)
        guard position.line <= lengths.count else {
            return SourcePosition(line: lengths.count, column: lengths[lengths.count - 1] + 1)
        }
        guard position.line >= 1 else { return position }
        return SourcePosition(line: position.line, column: min(position.column, lengths[position.line - 1] + 1))
    }

    /// Line and column of the `offset`-th Character (Yams' reader errors count Characters).
    private static func position(ofCharacter offset: Int, in text: String) -> SourcePosition? {
        var line = 1
        var column = 1
        var count = 0
        for character in text {
            if count == offset { return SourcePosition(line: line, column: column) }
            count += 1
            if character.isNewline {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return count == offset ? SourcePosition(line: line, column: column) : nil
    }

    /// Whether the error's line is indented with a tab, or has one at the error.
    private static func lineHasTab(_ position: SourcePosition, text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard let start = offset(of: SourcePosition(line: position.line, column: 1), in: scalars) else { return false }
        var index = start
        while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" {
            if scalars[index] == "\t" { return true }
            index += 1
        }
        guard position.column >= 1, position.column <= scalars.count - start else { return false }
        return scalars[start + position.column - 1] == "\t"
    }
}

extension YamlDocument {
    /// The top-level mapping of one of our YAML files (a sweep, a timing profile, the validation cases), with keys
    /// among `keys`: an empty file or an unknown key is reported the same way in each.
    static func topMapping(
        _ text: String, file: String, keys: [String], what: String
    ) throws(ScenarioError) -> MappingReader {
        let document = try parse(text, file: file)
        guard let root = document.root else {
            throw ScenarioError(
                kind: .invalid, file: file, line: 1, column: 1, path: "",
                message: "the file has no content; expected \(what)")
        }
        let context = ReaderContext(file: file, renamedKeys: document.renamedKeys)
        return try NodeReader(node: root, path: "", context: context).mapping(keys: keys, what: what)
    }
}
