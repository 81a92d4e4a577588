#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file's lines through one reused buffer (`getline`): reading a trace holds one line in memory at a time.
final class LineReader {
    let path: String
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0
    /// The 1-based number of the line last returned; 0 before the first.
    private(set) var lineNumber = 0

    /// Opens `path` for reading, or says why it cannot be read.
    init(path: String) throws(TraceError) {
        self.path = path
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw TraceError(path: path, line: 0, column: nil, message: "expected a trace file, found a directory")
        }
        guard let file = fopen(path, "r") else {
            let reason = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw TraceError(path: path, line: 0, column: nil, message: "cannot open the trace: \(reason)")
        }
        self.file = file
    }

    deinit {
        fclose(file)
        free(buffer)
    }

    /// The next line without its line break (`\n` or `\r\n`), valid until the next call; nil at the end.
    func next() -> UnsafeBufferPointer<UInt8>? {
        let length = getline(&buffer, &capacity, file)
        guard length >= 0, let buffer else { return nil }
        lineNumber += 1
        var end = length
        while end > 0, buffer[end - 1] == 0x0A || buffer[end - 1] == 0x0D { end -= 1 }
        return UnsafeBufferPointer(start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: end)
    }

    /// Whether reading stopped on an error rather than at the end of the file.
    var failed: Bool { ferror(file) != 0 }

    /// Back to the first line.
    func rewind() {
        #if canImport(Glibc)
            Glibc.rewind(file)
        #else
            Darwin.rewind(file)
        #endif
        lineNumber = 0
    }
}

/// One row of a trace: its time on the file's own clock and the request's sizes.
struct TraceRow {
    /// Nanoseconds on the file's clock (a datetime's nanoseconds since 1970, or the timestamp column scaled).
    var time: Int64
    /// Where the time was written, for errors about order.
    var timeColumn: Int?
    var inputTokens: Int
    /// At least 1: a request the simulator serves produces a token (0 in a trace becomes 1).
    var outputTokens: Int
    /// The prefix's block hashes (full blocks only), when the parser was asked to collect them.
    var hashes: [UInt64]
}

/// Parses the rows of one trace format. Rows are byte buffers; columns in errors are 1-based byte offsets.
struct TraceRowParser {
    enum TimeKind {
        /// `YYYY-MM-DD HH:MM:SS[.fraction]` (or with `T`), no time zone.
        case datetime
        /// A non-negative decimal number of this many nanoseconds.
        case decimal(unitNanoseconds: Int64)
    }

    /// Where a CSV's three columns are, found by name in the header.
    struct CSVLayout {
        var names: (timestamp: String, input: String, output: String)
        var timestamp: Int
        var input: Int
        var output: Int
        var timeKind: TimeKind
        var fieldsNeeded: Int { Swift.max(timestamp, input, output) + 1 }
    }

    enum Layout {
        case csv(CSVLayout)
        case jsonl
    }

    let path: String
    let layout: Layout
    let tokensPerHash: Int

    /// The largest token count accepted in one row.
    static let maximumTokens = 1_000_000_000

    /// A parser for `spec`'s format; a CSV's header is read from `lines` (which must be at the first line).
    init(spec: TraceReplaySpec, lines: LineReader) throws(TraceError) {
        self.path = spec.path
        self.tokensPerHash = spec.tokensPerHash
        switch spec.format {
        case .mooncake:
            layout = .jsonl
        case .azure:
            layout = .csv(
                try Self.header(
                    lines, path: spec.path, names: ("TIMESTAMP", "ContextTokens", "GeneratedTokens"),
                    timeKind: .datetime))
        case .csv(let columns):
            layout = .csv(
                try Self.header(
                    lines, path: spec.path, names: (columns.timestamp, columns.inputTokens, columns.outputTokens),
                    timeKind: .decimal(unitNanoseconds: columns.timestampUnit.nanoseconds)))
        }
    }

    /// Whether the file starts with a header line to skip when reading it again.
    var hasHeader: Bool {
        if case .csv = layout { return true }
        return false
    }

    private static func header(
        _ lines: LineReader, path: String, names: (timestamp: String, input: String, output: String),
        timeKind: TimeKind
    ) throws(TraceError) -> CSVLayout {
        guard var line = lines.next() else {
            throw TraceError(
                path: path, line: 1, column: nil,
                message: "expected a header row naming the columns, found an empty file")
        }
        // A UTF-8 byte order mark is not part of the first column's name.
        if line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF {
            line = UnsafeBufferPointer(rebasing: line[3...])
        }
        var headerNames: [String] = []
        var start = 0
        while start <= line.count {
            var end = start
            while end < line.count, line[end] != 0x2C { end += 1 }
            var field = trimmed(line, start..<end)
            if field.count >= 2, line[field.lowerBound] == 0x22, line[field.upperBound - 1] == 0x22 {
                field = (field.lowerBound + 1)..<(field.upperBound - 1)
            }
            headerNames.append(String(decoding: UnsafeBufferPointer(rebasing: line[field]), as: UTF8.self))
            start = end + 1
        }
        func index(of name: String) throws(TraceError) -> Int {
            guard let found = headerNames.firstIndex(of: name) else {
                throw TraceError(
                    path: path, line: 1, column: nil,
                    message: "no column `\(name)` in the header (it has: \(headerNames.joined(separator: ", ")))")
            }
            return found
        }
        return CSVLayout(
            names: names, timestamp: try index(of: names.timestamp), input: try index(of: names.input),
            output: try index(of: names.output), timeKind: timeKind)
    }

    /// The row on `line`, or nil for a blank line.
    func parse(
        _ line: UnsafeBufferPointer<UInt8>, lineNumber: Int, collectHashes: Bool
    ) throws(TraceError)
        -> TraceRow?
    {
        if trimmed(line, 0..<line.count).isEmpty { return nil }
        switch layout {
        case .csv(let csv): return try parseCSV(line, lineNumber: lineNumber, csv)
        case .jsonl: return try parseJSON(line, lineNumber: lineNumber, collectHashes: collectHashes)
        }
    }

    private func fail(_ line: Int, _ column: Int?, _ message: String) -> TraceError {
        TraceError(path: path, line: line, column: column, message: message)
    }

    // MARK: - CSV

    private func parseCSV(
        _ line: UnsafeBufferPointer<UInt8>, lineNumber: Int, _ csv: CSVLayout
    ) throws(TraceError)
        -> TraceRow
    {
        var timeField = 0..<0, inputField = 0..<0, outputField = 0..<0
        var field = 0, start = 0
        while field < csv.fieldsNeeded {
            var content = start..<start
            var end = start
            if start < line.count, line[start] == 0x22 {
                // A quoted field: `""` is a quote inside it, and the field ends at the lone closing quote.
                var i = start + 1
                while true {
                    guard i < line.count else { throw fail(lineNumber, start + 1, "unterminated quoted field") }
                    if line[i] == 0x22 {
                        if i + 1 < line.count, line[i + 1] == 0x22 {
                            i += 2
                            continue
                        }
                        break
                    }
                    i += 1
                }
                content = (start + 1)..<i
                end = i + 1
                guard end == line.count || line[end] == 0x2C else {
                    throw fail(lineNumber, end + 1, "expected `,` after a quoted field")
                }
            } else {
                while end < line.count, line[end] != 0x2C { end += 1 }
                content = start..<end
            }
            if field == csv.timestamp { timeField = content }
            if field == csv.input { inputField = content }
            if field == csv.output { outputField = content }
            field += 1
            if end >= line.count { break }
            start = end + 1
        }
        if field < csv.fieldsNeeded {
            let missing = [
                (csv.timestamp, csv.names.timestamp), (csv.input, csv.names.input),
                (csv.output, csv.names.output),
            ].filter { $0.0 >= field }.min { $0.0 < $1.0 }!
            throw fail(
                lineNumber, line.count + 1,
                "missing column `\(missing.1)`: the row has \(field) field\(field == 1 ? "" : "s"), expected at least \(csv.fieldsNeeded)"
            )
        }

        let timeText = trimmed(line, timeField)
        let time: Int64?
        let timeWhat: String
        switch csv.timeKind {
        case .datetime:
            time = datetimeNanoseconds(line, timeText)
            timeWhat = "a date and time like 2023-11-16 18:15:46.6805900"
        case .decimal(let unit):
            time = decimalNanoseconds(line, timeText, unitNanoseconds: unit)
            timeWhat = "a non-negative decimal number"
        }
        guard let time else {
            throw fail(
                lineNumber, timeField.lowerBound + 1,
                "expected \(timeWhat) in column `\(csv.names.timestamp)`, found \(quoted(line, timeText))")
        }
        let input = try tokens(line, inputField, column: csv.names.input, lineNumber: lineNumber)
        let output = try tokens(line, outputField, column: csv.names.output, lineNumber: lineNumber)
        return TraceRow(
            time: time, timeColumn: timeField.lowerBound + 1, inputTokens: input, outputTokens: Swift.max(1, output),
            hashes: [])
    }

    private func tokens(
        _ line: UnsafeBufferPointer<UInt8>, _ field: Range<Int>, column: String, lineNumber: Int
    )
        throws(TraceError) -> Int
    {
        let text = trimmed(line, field)
        guard let value = unsignedInteger(line, text), value <= UInt64(Self.maximumTokens) else {
            throw fail(
                lineNumber, field.lowerBound + 1,
                "expected a token count (an integer in 0...\(Self.maximumTokens)) in column `\(column)`, found \(quoted(line, text))"
            )
        }
        return Int(value)
    }

    // MARK: - JSON lines

    private static let timestampKey = Array("timestamp".utf8)
    private static let inputKey = Array("input_length".utf8)
    private static let outputKey = Array("output_length".utf8)
    private static let hashesKey = Array("hash_ids".utf8)

    /// One flat JSON object. The four fields are read directly from the bytes; other values are skipped.
    private func parseJSON(
        _ line: UnsafeBufferPointer<UInt8>, lineNumber: Int, collectHashes: Bool
    )
        throws(TraceError) -> TraceRow
    {
        var i = 0
        func skipSpace() {
            while i < line.count, line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0D { i += 1 }
        }
        func expect(_ byte: UInt8, _ what: String) throws(TraceError) {
            skipSpace()
            guard i < line.count, line[i] == byte else {
                throw fail(lineNumber, i + 1, "expected \(what), found \(foundAt(line, i))")
            }
            i += 1
        }
        /// A string's raw bytes between its quotes (escapes left as written).
        func string() throws(TraceError) -> Range<Int> {
            try expect(0x22, "a key in double quotes")
            let start = i
            while i < line.count, line[i] != 0x22 { i += line[i] == 0x5C ? 2 : 1 }
            guard i < line.count else { throw fail(lineNumber, start, "unterminated string") }
            i += 1
            return start..<(i - 1)
        }
        /// The extent of a number token.
        func number() -> Range<Int> {
            let start = i
            while i < line.count,
                (line[i] >= 0x30 && line[i] <= 0x39) || line[i] == 0x2E || line[i] == 0x2D
                    || line[i] == 0x2B || line[i] == 0x45 || line[i] == 0x65
            {
                i += 1
            }
            return start..<i
        }
        func count(_ key: String) throws(TraceError) -> Int {
            skipSpace()
            let token = number()
            guard let value = unsignedInteger(line, token), value <= UInt64(Self.maximumTokens) else {
                throw fail(
                    lineNumber, token.lowerBound + 1,
                    "expected `\(key)` to be a token count (an integer in 0...\(Self.maximumTokens)), found \(foundAt(line, token.lowerBound, token))"
                )
            }
            return Int(value)
        }
        /// Skips any JSON value, nested or not, checking no more than its brackets and strings.
        func skipValue() throws(TraceError) {
            skipSpace()
            let start = i
            var depth = 0
            while i < line.count {
                switch line[i] {
                case 0x22:
                    _ = try string()
                    continue
                case 0x5B, 0x7B: depth += 1
                case 0x5D, 0x7D:
                    if depth == 0 { return }
                    depth -= 1
                case 0x2C: if depth == 0 { return }
                default: break
                }
                i += 1
            }
            throw fail(lineNumber, start + 1, "unterminated value")
        }

        var time: Int64?, timeColumn = 0, input: Int?, output: Int?
        var hashes: [UInt64] = []
        var hashCount = 0, hashesColumn = 0
        try expect(0x7B, "a JSON object `{`")
        skipSpace()
        if i < line.count, line[i] == 0x7D {
            i += 1
        } else {
            while true {
                let key = try string()
                try expect(0x3A, "`:`")
                skipSpace()
                let keyBytes = UnsafeBufferPointer(rebasing: line[key])
                if keyBytes.elementsEqual(Self.timestampKey) {
                    timeColumn = i + 1
                    let token = number()
                    guard let value = decimalNanoseconds(line, token, unitNanoseconds: 1_000_000) else {
                        throw fail(
                            lineNumber, timeColumn,
                            "expected `timestamp` to be a non-negative number of milliseconds, found \(foundAt(line, token.lowerBound, token))"
                        )
                    }
                    time = value
                } else if keyBytes.elementsEqual(Self.inputKey) {
                    input = try count("input_length")
                    if collectHashes, let input { hashes.reserveCapacity(input / tokensPerHash + 1) }
                } else if keyBytes.elementsEqual(Self.outputKey) {
                    output = try count("output_length")
                } else if keyBytes.elementsEqual(Self.hashesKey) {
                    hashesColumn = i + 1
                    hashes.removeAll(keepingCapacity: true)
                    hashCount = 0
                    try expect(0x5B, "`hash_ids` to be a list of block hashes `[`")
                    skipSpace()
                    if i < line.count, line[i] == 0x5D {
                        i += 1
                    } else {
                        while true {
                            skipSpace()
                            let token = number()
                            guard let hash = unsignedInteger(line, token) else {
                                throw fail(
                                    lineNumber, token.lowerBound + 1,
                                    "expected a block hash (an integer in 0...\(UInt64.max)) in `hash_ids`, found \(foundAt(line, token.lowerBound, token))"
                                )
                            }
                            hashCount += 1
                            if collectHashes { hashes.append(hash) }
                            skipSpace()
                            guard i < line.count, line[i] == 0x2C || line[i] == 0x5D else {
                                throw fail(
                                    lineNumber, i + 1, "expected `,` or `]` in `hash_ids`, found \(foundAt(line, i))")
                            }
                            i += 1
                            if line[i - 1] == 0x5D { break }
                        }
                    }
                } else {
                    try skipValue()
                }
                skipSpace()
                guard i < line.count, line[i] == 0x2C || line[i] == 0x7D else {
                    throw fail(lineNumber, i + 1, "expected `,` or `}` after a value, found \(foundAt(line, i))")
                }
                i += 1
                if line[i - 1] == 0x7D { break }
            }
        }
        skipSpace()
        guard i == line.count else {
            throw fail(lineNumber, i + 1, "expected the end of the line after the object, found \(foundAt(line, i))")
        }
        guard let time else { throw fail(lineNumber, nil, "missing `timestamp` (milliseconds from the trace's start)") }
        guard let input else { throw fail(lineNumber, nil, "missing `input_length` (prompt tokens)") }
        guard let output else { throw fail(lineNumber, nil, "missing `output_length` (output tokens)") }
        // A prompt of L tokens spans ceil(L / block) blocks; more hashes than that means a wrong block size.
        let blocks = (input + tokensPerHash - 1) / tokensPerHash
        guard hashCount <= blocks else {
            throw fail(
                lineNumber, hashesColumn,
                "`hash_ids` has \(hashCount) blocks but input_length \(input) fills only \(blocks) blocks of \(tokensPerHash) tokens (is tokens-per-hash right?)"
            )
        }
        // Only full blocks: the prefix must not claim more tokens than the prompt has.
        let full = input / tokensPerHash
        if hashes.count > full { hashes.removeLast(hashes.count - full) }
        return TraceRow(
            time: time, timeColumn: timeColumn, inputTokens: input, outputTokens: Swift.max(1, output), hashes: hashes)
    }
}

// MARK: - Scalars

/// `range` without leading and trailing spaces and tabs.
private func trimmed(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
    var lower = range.lowerBound, upper = range.upperBound
    while lower < upper, line[lower] == 0x20 || line[lower] == 0x09 { lower += 1 }
    while upper > lower, line[upper - 1] == 0x20 || line[upper - 1] == 0x09 { upper -= 1 }
    return lower..<upper
}

/// How a piece of a line reads in an error: quoted (inner quotes escaped) and abbreviated, or "nothing".
private func quoted(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
    guard !range.isEmpty else { return "nothing" }
    let text = String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)
    let short = text.count > 40 ? String(text.prefix(37)) + "..." : text
    var result = "\""
    for character in short { result += character == "\"" ? "\\\"" : String(character) }
    return result + "\""
}

/// What is at `index`: the token `range` if given and non-empty, else everything up to the next `,`, `]` or `}`.
private func foundAt(_ line: UnsafeBufferPointer<UInt8>, _ index: Int, _ range: Range<Int>? = nil) -> String {
    if let range, !range.isEmpty { return quoted(line, range) }
    guard index < line.count else { return "the end of the line" }
    var end = index + 1
    while end < line.count, line[end] != 0x2C, line[end] != 0x5D, line[end] != 0x7D { end += 1 }
    return quoted(line, trimmed(line, index..<end))
}

/// A run of ASCII digits as UInt64; nil if empty, not all digits, or too large.
private func unsignedInteger(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64? {
    guard !range.isEmpty else { return nil }
    var value: UInt64 = 0
    for index in range {
        let digit = line[index] &- 0x30
        guard digit <= 9 else { return nil }
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
        guard !o1, !o2 else { return nil }
        value = sum
    }
    return value
}

/// `D+(.D*)?` or `.D+` of `unitNanoseconds` (a power of ten), exactly in nanoseconds; digits below a
/// nanosecond round half up. Nil if malformed or beyond Int64.
private func decimalNanoseconds(
    _ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, unitNanoseconds: Int64
)
    -> Int64?
{
    var i = range.lowerBound
    var whole: Int64 = 0
    var digits = 0
    while i < range.upperBound, line[i] &- 0x30 <= 9 {
        let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(Int64(line[i] &- 0x30))
        guard !o1, !o2 else { return nil }
        whole = sum
        digits += 1
        i += 1
    }
    let (scaled, overflow) = whole.multipliedReportingOverflow(by: unitNanoseconds)
    guard !overflow else { return nil }
    var fraction: Int64 = 0
    if i < range.upperBound, line[i] == 0x2E {
        i += 1
        var place = unitNanoseconds
        var roundUp = false
        var seenBelow = false
        while i < range.upperBound, line[i] &- 0x30 <= 9 {
            let digit = Int64(line[i] &- 0x30)
            if place >= 10 {
                place /= 10
                fraction += digit * place
            } else if !seenBelow {
                roundUp = digit >= 5
                seenBelow = true
            }
            digits += 1
            i += 1
        }
        if roundUp { fraction += 1 }
    }
    guard digits > 0, i == range.upperBound else { return nil }
    let (total, overflowSum) = scaled.addingReportingOverflow(fraction)
    return overflowSum ? nil : total
}

/// `YYYY-MM-DD HH:MM:SS[.fraction]` (or `T` between date and time, no zone) as nanoseconds since
/// 1970-01-01 00:00:00, computed from the digits exactly; nil before 1970 or after 2262.
private func datetimeNanoseconds(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int64? {
    let base = range.lowerBound
    guard range.count >= 19 else { return nil }
    func field(_ offset: Int, _ width: Int) -> Int64? {
        var value: Int64 = 0
        for index in (base + offset)..<(base + offset + width) {
            let digit = line[index] &- 0x30
            guard digit <= 9 else { return nil }
            value = value * 10 + Int64(digit)
        }
        return value
    }
    guard line[base + 4] == 0x2D, line[base + 7] == 0x2D, line[base + 10] == 0x20 || line[base + 10] == 0x54,
        line[base + 13] == 0x3A, line[base + 16] == 0x3A,
        let year = field(0, 4), let month = field(5, 2), let day = field(8, 2), let hour = field(11, 2),
        let minute = field(14, 2), let second = field(17, 2),
        (1...12).contains(month), hour < 24, minute < 60, second < 60
    else { return nil }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    let monthDays: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    guard day >= 1, day <= monthDays[Int(month) - 1] else { return nil }
    var fraction: Int64 = 0
    if range.count > 19 {
        guard line[base + 19] == 0x2E, range.count > 20,
            let value = decimalNanoseconds(line, (base + 19)..<range.upperBound, unitNanoseconds: 1_000_000_000)
        else { return nil }
        fraction = value
    }
    // Days from the civil date (the proleptic Gregorian calendar), counting eras of 400 years.
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = era * 146_097 + dayOfEra - 719_468
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
    // Before 1970 or after 2262 would not fit; keeping times non-negative also keeps their differences in range.
    let (nanoseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    let (total, overflowSum) = nanoseconds.addingReportingOverflow(fraction)
    guard seconds >= 0, !overflow, !overflowSum else { return nil }
    return total
}
