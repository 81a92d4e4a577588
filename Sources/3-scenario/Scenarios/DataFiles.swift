import Foundation
import SimKernel

/// Files a scenario names: an empirical distribution's data (`{dist: empirical, file: ...}`), traces, a model's
/// `config.json`, a timing profile (`timing: {profile: ...}`).
///
/// This is the one place that resolves their paths (against the directory of the scenario file) and reads them:
/// every such file goes through ``NodeReader/readNamedFile(_:noun:)`` (or, for a file streamed by path,
/// ``NodeReader/recordNamedFile(_:noun:)``), which records it in the scenario's `namedFiles`, so that the
/// scenario's identity covers the file's bytes and `reproduce` can say which file changed.
extension NodeReader {
    /// `path` resolved against the scenario file's directory; absolute paths are kept.
    func resolvedPath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        // The loader's directory for a file on disk; for text parsed in memory, the directory of its name.
        let directory =
            context.baseDirectory.isEmpty ? (context.file as NSString).deletingLastPathComponent : context.baseDirectory
        return directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
    }

    /// The file the scenario names as `written` (this node's text): resolved, read whole, and recorded in the
    /// scenario's `namedFiles`. Returns its resolved path and bytes. Any new kind of file a scenario names is read
    /// through this.
    ///
    /// Errors are located at this node, with `noun` naming the kind of file: a missing file is
    /// `no NOUN \`written\` (looked for PATH)` of kind `fileNotFound` (exit status 66); a directory or a file that
    /// cannot be read is invalid.
    func readNamedFile(_ written: String, noun: String) throws(ScenarioError) -> (path: String, data: Data) {
        let path = try existingNamedFile(written, noun: noun)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw error("the file `\(written)` could not be read")
        }
        context.namedFiles.record(NamedFile(path: written, resolvedPath: path, sha256: SHA256.hex(of: data)))
        return (path, data)
    }

    /// ``readNamedFile(_:noun:)`` for a file read by path elsewhere, as a stream (a trace, which may be large):
    /// checks it, hashes its bytes in chunks and records it. Returns its resolved path.
    func recordNamedFile(_ written: String, noun: String) throws(ScenarioError) -> String {
        let path = try existingNamedFile(written, noun: noun)
        guard let sha256 = SHA256.hex(ofFileAt: path) else { throw error("the file `\(written)` could not be read") }
        context.namedFiles.record(NamedFile(path: written, resolvedPath: path, sha256: sha256))
        return path
    }

    /// The resolved path of `written`, which must be an existing file (see ``readNamedFile(_:noun:)``).
    private func existingNamedFile(_ written: String, noun: String) throws(ScenarioError) -> String {
        let path = resolvedPath(written)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            var missing = error("no \(noun) `\(written)` (looked for \(path))")
            missing.kind = .fileNotFound
            throw missing
        }
        guard !isDirectory.boolValue else { throw error("expected a \(noun), found the directory `\(path)`") }
        return path
    }

    /// The numbers >= 0 in the data file this node names: column `column` of a CSV file with a header line, or,
    /// without a column, one number per line. Blank lines are skipped. Errors point at this node and name the
    /// file's line.
    func numbers(column: NodeReader?) throws(ScenarioError) -> [Double] {
        let written = try string("a file path")
        let data = try readNamedFile(written, noun: "data file").data
        let text = String(decoding: data, as: UTF8.self)
        guard text.utf8.elementsEqual(data) else { throw error("`\(written)` is not UTF-8 text") }
        // "\r\n" is one Character in Swift, so split on newline characters rather than on "\n".
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().map {
            (number: $0 + 1, text: $1)
        }
        lines.removeAll { $0.text.allSatisfy(\.isWhitespace) }
        var index: Int?
        var columnName = ""
        if let column {
            columnName = try column.string("a column name")
            guard let header = lines.first else { throw error("`\(written)` is empty; expected a header line") }
            let names = try Self.csvFields(header.text, file: written, line: header.number, at: self)
            index = names.firstIndex(of: columnName)
            guard index != nil else {
                throw column.error(
                    "no column `\(columnName)` in \(written)" + Suggestions.hint(for: columnName, among: names))
            }
            lines.removeFirst()
        }
        var values: [Double] = []
        values.reserveCapacity(lines.count)
        for line in lines {
            var field = Substring(line.text)
            if let index {
                let fields = try Self.csvFields(line.text, file: written, line: line.number, at: self)
                guard index < fields.count else {
                    throw error(
                        "\(written):\(line.number): expected a value in column `\(columnName)`, found \(fields.count) fields"
                    )
                }
                field = Substring(fields[index])
            }
            let trimmed = field.trimmingCharacters(in: .whitespaces)
            guard case .value(let value) = Units.number(trimmed), value >= 0 else {
                let place = index == nil ? "" : " in column `\(columnName)`"
                throw error("\(written):\(line.number): expected a number >= 0\(place), found \(Self.quoted(trimmed))")
            }
            values.append(value)
        }
        guard !values.isEmpty else { throw error("`\(written)` has no values") }
        return values
    }

    /// The fields of one CSV line (RFC 4180 quoting within a line: `"a, b"` and `""` for a quote).
    private static func csvFields(
        _ line: Substring, file: String, line number: Int, at reader: NodeReader
    ) throws(ScenarioError) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var characters = line.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    let next = characters.next()
                    if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                } else {
                    field.append(character)
                }
            } else if character == "\"" && field.allSatisfy(\.isWhitespace) {
                quoted = true
                field = ""
            } else if character == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(character)
            }
        }
        guard !quoted else { throw reader.error("\(file):\(number): a quoted field is not closed on its line") }
        fields.append(field)
        return fields.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
