import Foundation
import GRDB

/// What merging one database brought in.
public struct MergeResult: Sendable, Equatable {
    /// The database merged from.
    public var input: String
    /// Its complete runs, now in this store.
    public var runs: Int
    /// The new ids of those runs, in the order of their original ids.
    public var newRunIDs: [Int64]
    /// Runs of the input left out because they are `running` or `failed`.
    public var skipped: Int
}

extension ResultsStore {
    /// Copies every complete run of the database at `input`, with all its rows, into this store, in one
    /// transaction. The runs get new ids after this store's last, in the order of their original ids.
    ///
    /// Refuses (with a ``StoreError``) a file that is not an InferMesh results database and one written with a
    /// schema this version does not know. An input with an older schema is fine: the columns it lacks take their
    /// defaults, as they would have after migrating it. The input is only read.
    public func merge(from input: String) throws -> MergeResult {
        guard FileManager.default.fileExists(atPath: input) else {
            throw StoreError(path: input, operation: "merging", message: "no such file")
        }
        if URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath()
            == URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        {
            throw StoreError(path: input, operation: "merging", message: "the input is the output database")
        }
        do {
            return try pool.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS src", arguments: [input])
                defer { try? db.execute(sql: "DETACH DATABASE src") }
                try Self.checkMergeable(db, input: input)
                var result = MergeResult(input: input, runs: 0, newRunIDs: [], skipped: 0)
                try db.inTransaction(.immediate) {
                    result = try Self.copyRuns(db, input: input)
                    return .commit
                }
                return result
            }
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw StoreError(path: input, operation: "merging", message: "not an SQLite database")
        } catch {
            throw StoreError(path: input, operation: "merging into \(path)", underlying: error)
        }
    }

    /// Throws unless `src` has InferMesh's tables and only migrations this version knows.
    private static func checkMergeable(_ db: Database, input: String) throws {
        let tables = try String.fetchSet(
            db, sql: "SELECT name FROM src.sqlite_master WHERE type = 'table'")
        guard tables.contains("grdb_migrations"), tables.contains("run") else {
            throw StoreError(
                path: input, operation: "merging",
                message: "not an InferMesh results database (no `run` table and migration history)")
        }
        let applied = try String.fetchAll(db, sql: "SELECT identifier FROM src.grdb_migrations ORDER BY identifier")
        let unknown = applied.filter { !Schema.migrationIDs.contains($0) }
        guard unknown.isEmpty else {
            throw StoreError(
                path: input, operation: "merging",
                message: "written with a newer schema (migrations \(unknown.joined(separator: ", ")) are unknown to "
                    + "this version); merge with a newer infermesh")
        }
    }

    /// Copies the complete runs of `src` with SQL: a temporary map from old to new run ids, then one
    /// INSERT ... SELECT per table. Columns the input lacks (an older schema) take their defaults.
    private static func copyRuns(_ db: Database, input: String) throws -> MergeResult {
        let base =
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT max(coalesce((SELECT seq FROM main.sqlite_sequence WHERE name = 'run'), 0),
                               coalesce((SELECT max(id) FROM main.run), 0))
                    """) ?? 0
        try db.execute(sql: "DROP TABLE IF EXISTS temp.run_map")
        try db.execute(
            sql: """
                CREATE TEMP TABLE run_map AS
                SELECT id AS old_id, ? + row_number() OVER (ORDER BY id) AS new_id
                FROM src.run WHERE status = 'complete'
                """, arguments: [base])
        defer { try? db.execute(sql: "DROP TABLE IF EXISTS temp.run_map") }
        let sourceTables = try String.fetchSet(db, sql: "SELECT name FROM src.sqlite_master WHERE type = 'table'")
        for declaration in Tables.all where sourceTables.contains(declaration.name) {
            let table = declaration.name
            let outColumns = declaration.columnNames
            let inColumns = Set(try db.columns(in: table, in: "src").map(\.name))
            let idColumn = declaration.name == Tables.run.name ? "id" : "run_id"
            let copied = outColumns.filter { $0 != idColumn && inColumns.contains($0) }
            let names = ([idColumn] + copied).map(\.quotedDatabaseIdentifier).joined(separator: ", ")
            let values = (["m.new_id"] + copied.map { "s." + $0.quotedDatabaseIdentifier }).joined(separator: ", ")
            // `summary` readers rely on rowid order; every table is copied in (run, original row) order.
            let order = declaration.rowOrder == ["rowid"] ? "m.new_id, s.rowid" : "m.new_id"
            try db.execute(
                sql: """
                    INSERT INTO main.\(table.quotedDatabaseIdentifier) (\(names))
                    SELECT \(values) FROM src.\(table.quotedDatabaseIdentifier) AS s
                    JOIN temp.run_map AS m ON s.\(idColumn.quotedDatabaseIdentifier) = m.old_id
                    ORDER BY \(order)
                    """)
        }
        let ids = try Int64.fetchAll(db, sql: "SELECT new_id FROM temp.run_map ORDER BY new_id")
        let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM src.run") ?? 0
        return MergeResult(input: input, runs: ids.count, newRunIDs: ids, skipped: total - ids.count)
    }
}
