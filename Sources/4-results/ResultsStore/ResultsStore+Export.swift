import GRDB

/// One value as SQLite stores it, so exports can keep integers, reals, text and NULL apart.
public enum StoredValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

// Schema-driven reads for exports: whatever columns a table has, in schema order, row by row, without
// loading a run's million requests into memory.
extension ResultsStore {
    /// The column names of `table`, in schema order (the order the migrations created them).
    public func columns(ofTable table: String) throws -> [String] {
        try perform("reading the columns of \(table)") {
            try pool.read { db in try db.columns(in: table).map(\.name) }
        }
    }

    /// Calls `body` once per row of `table` that belongs to run `runID`, ordered by `orderBy`, with the values
    /// of `columns` in that order. Rows are read through a cursor: memory does not grow with the row count.
    /// The array passed to `body` is reused between rows.
    ///
    /// - Complexity: O(rows) with the index on `(run_id, …)` every child table has.
    public func forEachRow(
        table: String, columns: [String], runID: Int64, orderBy: [String],
        _ body: ([StoredValue]) throws -> Void
    ) throws {
        let select = columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
        let order = orderBy.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
        let sql =
            "SELECT \(select) FROM \(table.quotedDatabaseIdentifier) WHERE run_id = ?"
            + (order.isEmpty ? "" : " ORDER BY \(order)")
        try perform("reading \(table) of run \(runID)") {
            try pool.read { db in
                let cursor = try Row.fetchCursor(db, sql: sql, arguments: [runID])
                var values = [StoredValue](repeating: .null, count: columns.count)
                while let row = try cursor.next() {
                    for index in columns.indices {
                        let value: DatabaseValue = row[index]
                        switch value.storage {
                        case .null: values[index] = .null
                        case .int64(let integer): values[index] = .integer(integer)
                        case .double(let real): values[index] = .real(real)
                        case .string(let text): values[index] = .text(text)
                        case .blob(let data): values[index] = .text(String(decoding: data, as: UTF8.self))
                        }
                    }
                    try body(values)
                }
            }
        }
    }
}
