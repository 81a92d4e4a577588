import Foundation
import GRDB
import TestSupport
import Testing

@testable import ResultsStore

/// The table declarations (Tables.swift) against the frozen migrations (Schema.swift) and the database they build.
@Suite("Table declarations")
struct TableDeclarationTests {
    /// `sql` split into statements, each with its whitespace collapsed and none just inside parentheses.
    static func statements(_ sql: String) -> [String] {
        sql.split(separator: ";").map { normalized(String($0)) }.filter { !$0.isEmpty }
    }

    static func normalized(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            .replacingOccurrences(of: "( ", with: "(").replacingOccurrences(of: " )", with: ")")
    }

    /// How the database built by the migrations differs from `declarations`; empty when they agree on the tables,
    /// every column's name, position, type, nullability, default, reference and CHECK, keys, table CHECKs,
    /// WITHOUT ROWID and indexes.
    static func differences(_ declarations: [TableDeclaration], _ db: Database) throws -> [String] {
        var found: [String] = []
        let tables = try String.fetchAll(
            db,
            sql: """
                SELECT name FROM sqlite_master WHERE type = 'table'
                AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations' ORDER BY name
                """)
        if tables != declarations.map(\.name).sorted() {
            found.append("tables \(tables) are not the declared \(declarations.map(\.name).sorted())")
        }
        for table in declarations where tables.contains(table.name) {
            let stored = try Row.fetchAll(
                db, sql: "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
                arguments: [table.name]
            ).map { row -> String in
                let defaultSQL: String? = row["dflt_value"]
                return "\(row["name"] as String) \(row["type"] as String) notnull=\(row["notnull"] as Int) "
                    + "default=\(defaultSQL ?? "-") pk=\(row["pk"] as Int)"
            }
            let declared = table.columns.map { column in
                let key =
                    column.isAutoincrementKey ? 1 : (table.primaryKey.firstIndex(of: column.name).map { $0 + 1 } ?? 0)
                let notNull = !column.nullable && !column.isAutoincrementKey ? 1 : 0
                return "\(column.name) \(column.type.rawValue) notnull=\(notNull) "
                    + "default=\(column.defaultSQL ?? "-") pk=\(key)"
            }
            if stored != declared { found.append("\(table.name): columns \(stored), declared \(declared)") }

            // sqlite_master keeps the CREATE TABLE text with every ADD COLUMN appended: each declared definition
            // (type, NOT NULL, DEFAULT, REFERENCES, CHECK) must appear in it whole, and no other CHECK.
            let sql = normalized(
                try String.fetchOne(
                    db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table.name])
                    ?? "")
            for column in table.columns {
                let definition = column.definitionSQL
                let whole = ["(", ", "].contains { before in
                    [",", ")"].contains { after in sql.contains(before + definition + after) }
                }
                if !whole { found.append("\(table.name): no `\(definition)` in \(sql)") }
            }
            for check in table.checks where !sql.contains("CHECK (\(check)))") && !sql.contains("CHECK (\(check)),") {
                found.append("\(table.name): no table CHECK (\(check))")
            }
            let checks = sql.components(separatedBy: "CHECK (").count - 1
            let declaredChecks = table.columns.filter { $0.check != nil }.count + table.checks.count
            if checks != declaredChecks { found.append("\(table.name): \(checks) CHECKs, declared \(declaredChecks)") }
            if sql.hasSuffix("WITHOUT ROWID") != table.withoutRowID {
                found.append("\(table.name): WITHOUT ROWID is \(sql.hasSuffix("WITHOUT ROWID"))")
            }
            let indexes = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                arguments: [table.name])
            if Set(indexes) != Set(table.indexes.map(\.name)) {
                found.append("\(table.name): indexes \(indexes), declared \(table.indexes.map(\.name))")
            }
            for index in table.indexes {
                let columns = try String.fetchAll(
                    db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno", arguments: [index.name])
                if columns != index.columns { found.append("index \(index.name): columns \(columns)") }
            }
        }
        return found
    }

    /// A database with every migration applied, in memory.
    static func migrated() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try Schema.migrator.migrate(queue)
        return queue
    }

    @Test("each frozen migration runs exactly the statements the declarations give for it")
    func declarationsGenerateTheFrozenMigrations() {
        for (id, sql) in Schema.migrations {
            let generated = Tables.all.flatMap { $0.statements(in: id) }
            #expect(Self.statements(sql).sorted() == generated.sorted(), "migration \(id)")
        }
        let ids = Set(Schema.migrationIDs)
        for table in Tables.all {
            #expect(ids.contains(table.since), "\(table.name)")
            for column in table.columns { #expect(ids.contains(column.since), "\(table.name).\(column.name)") }
        }
    }

    @Test("the generated statements of a migration are exact SQL")
    func generatedStatements() {
        #expect(
            TableDeclaration.itlHistogram.statements(in: Schema.v3) == [
                "CREATE TABLE itl_histogram (run_id INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE, "
                    + "replica INTEGER NOT NULL, le_ns INTEGER NOT NULL, tokens INTEGER NOT NULL CHECK (tokens > 0), "
                    + "PRIMARY KEY (run_id, replica, le_ns)) WITHOUT ROWID"
            ])
        #expect(
            TableDeclaration.request.statements(in: Schema.v2) == [
                "ALTER TABLE request ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cached_tokens >= 0)",
                "ALTER TABLE request ADD COLUMN preemptions INTEGER NOT NULL DEFAULT 0 CHECK (preemptions >= 0)",
            ])
        #expect(TableDeclaration.run.statements(in: Schema.v2).isEmpty)
        #expect(
            TableDeclaration.run.statements(in: Schema.v1).last
                == "CREATE INDEX run_scenario_policy ON run (scenario_name, policy)")
    }

    @Test("the migrated database has exactly the declared tables, columns, types, checks and indexes")
    func migratedSchemaMatchesTheDeclarations() throws {
        let differences = try Self.migrated().read { db in try Self.differences(Tables.all, db) }
        #expect(differences == [])
    }

    @Test(
        "a declaration that disagrees with the migrations is caught",
        arguments: ["type", "nullable", "check", "extra column", "order", "without rowid", "missing table"])
    func disagreementIsCaught(_ change: String) throws {
        var tables = Tables.all
        let request = tables.firstIndex { $0.name == "request" }!
        switch change {
        case "type": tables[request].columns[4].type = .real
        case "nullable": tables[request].columns[3].nullable = false
        case "check": tables[request].columns[14].check = "routed_ns >= 0"
        case "extra column":
            tables[request].columns.append(ColumnDeclaration("retries", .integer, nullable: true, since: Schema.v4))
        case "order": tables[request].columns.swapAt(5, 6)
        case "without rowid": tables[request].withoutRowID = false
        default: tables.remove(at: request)
        }
        let differences = try Self.migrated().read { db in try Self.differences(tables, db) }
        #expect(!differences.isEmpty)
        let migrations = Schema.migrations.map { Self.statements($0.sql).sorted() }
        let generated = Schema.migrations.map { migration in
            tables.flatMap { $0.statements(in: migration.id) }.sorted()
        }
        #expect(migrations != generated)
    }

    @Test("docs/results-schema.md documents every declared column, in order, with its type and nullability")
    func schemaDocsListTheDeclaredColumns() throws {
        let text = try String(
            contentsOf: Repository.root.appendingPathComponent("docs/results-schema.md"), encoding: .utf8)
        var documented: [String: [String]] = [:]
        var table: String?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("### `") {
                table = String(line.dropFirst(5).prefix { $0 != "`" })
            } else if line.hasPrefix("## ") {
                table = nil
            } else if let table, line.hasPrefix("| `") {
                // | `name` | TYPE … | no, yes, until complete … | meaning |
                let cells = MarkdownTable.cells(line)
                let name = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
                let type = cells[1].prefix { $0 != " " }
                documented[table, default: []].append("\(name) \(type) \(cells[2] == "no" ? "NOT NULL" : "NULL")")
            }
        }
        #expect(documented.keys.sorted() == Tables.all.map(\.name).sorted())
        for declaration in Tables.all {
            let declared = declaration.columns.map {
                "\($0.name) \($0.type.rawValue) \($0.nullable ? "NULL" : "NOT NULL")"
            }
            #expect(documented[declaration.name] == declared, "\(declaration.name)")
        }
    }

    @Test("docs/export.md lists each copied table's declared columns and row order")
    func exportDocsListTheDeclaredColumns() throws {
        let text = try String(contentsOf: Repository.root.appendingPathComponent("docs/export.md"), encoding: .utf8)
        var copies = 0
        for line in text.split(separator: "\n") where line.hasPrefix("| `") && line.contains(".csv` | `") {
            // | `file.csv` | `table` | `columns` | `order` |
            let cells = MarkdownTable.cells(line).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
            let declaration = try #require(Tables.all.first { $0.name == cells[1] }, "\(cells[1])")
            #expect(cells[2] == declaration.columnNames.joined(separator: ", "), "\(cells[0])")
            #expect(cells[3] == declaration.rowOrder.joined(separator: ", "), "\(cells[0])")
            copies += 1
        }
        #expect(copies == 7)
    }

    @Test("RunRecord, the one Codable record, encodes exactly the declared columns of run")
    func runRecordColumns() throws {
        var record = RunRecord(newRun())
        record.id = 7
        record.digest = "0123456789abcdef"
        record.events = 1
        record.wallSeconds = 0.5
        record.error = "none"
        #expect(Set(try record.databaseDictionary.keys) == Set(TableDeclaration.run.columnNames))
    }

    @Test("a row of every table round-trips through its declaration: insert binding and read agree")
    func everyTableRoundTrips() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let id = try store.beginRun(newRun())
            let written = results(requestCount: 90)
            try store.completeRun(id: id, results: written)
            #expect(try store.replicas(runID: id) == written.replicas)
            #expect(try store.requests(runID: id) == written.requests)
            #expect(try store.summaries(runID: id) == written.summaries)
            #expect(try store.samples(runID: id) == written.samples)
            #expect(try store.itlHistogram(runID: id) == written.itlHistogram)
            #expect(try store.sessions(runID: id) == written.sessions)
            #expect(try store.scalingEvents(runID: id) == written.scalingEvents)
            #expect(try store.meshEvents(runID: id) == written.meshEvents)
            // `seq` is the position in the run's list.
            var seqs: [StoredValue] = []
            try store.forEachRow(table: "scaling_event", columns: ["seq"], runID: id, orderBy: ["seq"]) {
                seqs.append($0[0])
            }
            #expect(seqs == [.integer(0), .integer(1), .integer(2)])
        }
    }
}
