import Foundation
import ResultsStore

/// RFC 4180 CSV: CRLF record ends, a header row, fields quoted only when they need it. docs/export.md.
enum CSV {
    /// The record separator RFC 4180 prescribes.
    static let lineEnd = "\r\n"

    /// `text` as one field: quoted (inner quotes doubled) when it holds a comma, a quote, CR or LF, and `""`
    /// when empty, so an empty string stays distinct from NULL (an empty field).
    static func field(_ text: String) -> String {
        if text.isEmpty { return "\"\"" }
        let special: Set<UInt8> = [0x2C, 0x22, 0x0A, 0x0D]  // comma, quote, LF, CR
        let needsQuotes = text.utf8.contains { special.contains($0) }
        guard needsQuotes else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A double in Swift's shortest round-trip form (`0.25`, `1234567.5`, `2.0`, `1e-05`), independent of the
    /// locale; `inf` and `-inf` for infinities; NaN (undefined, NULL in the database) as an empty field.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return value.description
    }

    /// A stored value as a field: integers in decimal, reals by `number(_:)`, NULL as nothing.
    static func field(_ value: StoredValue) -> String {
        switch value {
        case .null: ""
        case .integer(let integer): String(integer)
        case .real(let real): number(real)
        case .text(let text): field(text)
        }
    }

    /// An optional double: nil as an empty field.
    static func field(_ value: Double?) -> String { value.map(number) ?? "" }
}

/// Writes CSV records to a file through a 64 KiB buffer, so a million rows never become one string.
final class CSVFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private static let capacity = 1 << 16
    /// Records written so far, the header included.
    private(set) var records = 0

    /// Creates (or truncates) the file at `url` and writes the header row.
    init(url: URL, header: [String]) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        handle = try FileHandle(forWritingTo: url)
        buffer.reserveCapacity(Self.capacity + 4096)
        try write(header.map(CSV.field))
    }

    /// Appends one record of already encoded fields.
    func write(_ fields: [String]) throws {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(0x2C) }
            buffer.append(contentsOf: field.utf8)
        }
        buffer.append(contentsOf: CSV.lineEnd.utf8)
        records += 1
        if buffer.count >= Self.capacity { try flush() }
    }

    /// Writes what is buffered and closes the file.
    func close() throws {
        try flush()
        try handle.close()
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
