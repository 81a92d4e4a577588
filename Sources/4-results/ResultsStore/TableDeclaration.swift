import GRDB

/// The storage class of a results column, as its migration spells it.
public enum SQLType: String, Sendable, Hashable {
    case integer = "INTEGER"
    case real = "REAL"
    case text = "TEXT"
}

/// One column of a results table: its name, type, nullability, default, reference and CHECK.
public struct ColumnDeclaration: Sendable, Hashable {
    /// The column's name.
    public var name: String
    /// Its storage class.
    public var type: SQLType
    /// Whether it may hold NULL.
    public var nullable: Bool
    /// Its DEFAULT as SQL text (a NOT NULL column added to an existing table needs one); nil if none.
    public var defaultSQL: String?
    /// The table and columns it references, e.g. `run (id) ON DELETE CASCADE`; nil if none.
    public var references: String?
    /// Its CHECK expression, without the `CHECK (…)` around it; nil if none.
    public var check: String?
    /// Whether it is the table's `INTEGER PRIMARY KEY AUTOINCREMENT` (the run id).
    public var isAutoincrementKey: Bool
    /// The migration that created it (with its table, or with `ALTER TABLE … ADD COLUMN`).
    public var since: String

    /// Declares a column; `since` defaults to the migration that creates its table.
    init(
        _ name: String, _ type: SQLType, nullable: Bool, defaultSQL: String? = nil, references: String? = nil,
        check: String? = nil, isAutoincrementKey: Bool = false, since: String = ""
    ) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.defaultSQL = defaultSQL
        self.references = references
        self.check = check
        self.isAutoincrementKey = isAutoincrementKey
        self.since = since
    }

    /// The column definition as `CREATE TABLE` and `ALTER TABLE … ADD COLUMN` write it.
    public var definitionSQL: String {
        var text = "\(name) \(type.rawValue)"
        if isAutoincrementKey { text += " PRIMARY KEY AUTOINCREMENT" }
        if !nullable && !isAutoincrementKey { text += " NOT NULL" }
        if let defaultSQL { text += " DEFAULT \(defaultSQL)" }
        if let references { text += " REFERENCES \(references)" }
        if let check { text += " CHECK (\(check))" }
        return text
    }
}

/// One results table as declared: its columns in schema order, keys, checks, indexes and the order of a run's
/// rows. The DDL, the inserts, the reads and the CSV export all follow from it (see `Tables`).
public struct TableDeclaration: Sendable, Hashable {
    /// An index on the table.
    public struct Index: Sendable, Hashable {
        /// The index's name.
        public var name: String
        /// Its key columns, in order.
        public var columns: [String]
    }

    /// The table's name.
    public var name: String
    /// The migration that creates it.
    public var since: String
    /// Its columns in schema order: those of its `CREATE TABLE`, then those added later, in migration order.
    public var columns: [ColumnDeclaration]
    /// The columns of its `PRIMARY KEY (…)` table constraint; empty if none.
    public var primaryKey: [String]
    /// Table-level CHECK expressions, without the `CHECK (…)` around them.
    public var checks: [String]
    /// Whether it is `WITHOUT ROWID` (clustered on its primary key).
    public var withoutRowID: Bool
    /// Its indexes, all created with the table.
    public var indexes: [Index]
    /// The order of one run's rows when read or exported (SQL column names; `rowid` for insertion order).
    public var rowOrder: [String]

    /// Declares a table; columns without a `since` are created with it.
    init(
        name: String, since: String, columns: [ColumnDeclaration], primaryKey: [String], checks: [String],
        withoutRowID: Bool, indexes: [Index], rowOrder: [String]
    ) {
        self.name = name
        self.since = since
        self.columns = columns.map { column in
            var column = column
            if column.since.isEmpty { column.since = since }
            return column
        }
        self.primaryKey = primaryKey
        self.checks = checks
        self.withoutRowID = withoutRowID
        self.indexes = indexes
        self.rowOrder = rowOrder
    }

    /// The column names, in schema order.
    public var columnNames: [String] { columns.map(\.name) }

    /// The statements migration `id` must run for this table: its `CREATE TABLE` and indexes in the migration
    /// that creates it, an `ALTER TABLE … ADD COLUMN` for each column a later migration adds.
    public func statements(in id: String) -> [String] {
        if id == since {
            var parts = columns.filter { $0.since == since }.map(\.definitionSQL)
            if !primaryKey.isEmpty { parts.append("PRIMARY KEY (\(primaryKey.joined(separator: ", ")))") }
            parts += checks.map { "CHECK (\($0))" }
            let create =
                "CREATE TABLE \(name) (\(parts.joined(separator: ", ")))" + (withoutRowID ? " WITHOUT ROWID" : "")
            return [create]
                + indexes.map { "CREATE INDEX \($0.name) ON \(name) (\($0.columns.joined(separator: ", ")))" }
        }
        return columns.filter { $0.since == id }.map { "ALTER TABLE \(name) ADD COLUMN \($0.definitionSQL)" }
    }
}

/// A Swift type a column holds as it is, and the SQL type that stores it.
protocol StoredValueType: DatabaseValueConvertible, StatementColumnConvertible, Sendable {
    /// The column type declared for it.
    static var sqlType: SQLType { get }
    /// How an insert reads a value of this type at `offset` in a row (optional or not).
    static func binding(offset: Int, optional: Bool) -> Binding
}

extension Int: StoredValueType {
    static var sqlType: SQLType { .integer }
    static func binding(offset: Int, optional: Bool) -> Binding { optional ? .optionalInt(offset) : .int(offset) }
}
extension Int64: StoredValueType {
    static var sqlType: SQLType { .integer }
    static func binding(offset: Int, optional: Bool) -> Binding {
        optional ? .optionalInt64(offset) : .int64(offset)
    }
}
/// Stored as 0 or 1.
extension Bool: StoredValueType {
    static var sqlType: SQLType { .integer }
    static func binding(offset: Int, optional: Bool) -> Binding { optional ? .optionalBool(offset) : .bool(offset) }
}
extension Double: StoredValueType {
    static var sqlType: SQLType { .real }
    static func binding(offset: Int, optional: Bool) -> Binding {
        optional ? .optionalDouble(offset) : .double(offset)
    }
}
extension String: StoredValueType {
    static var sqlType: SQLType { .text }
    static func binding(offset: Int, optional: Bool) -> Binding {
        optional ? .optionalString(offset) : .string(offset)
    }
}

/// How an insert reads one column's value from a row: a plain load at a byte offset for the stored types, a
/// closure only for columns with their own mapping. A plan of these, made once per table, binds a row
/// without a closure call (and its retains) per value: the scale benchmark writes a million rows.
enum Binding: Sendable {
    /// The run's id, given to the insert.
    case runID
    /// The row's 0-based position in the list inserted (event tables' `seq`).
    case position
    case int(Int), optionalInt(Int)
    case int64(Int), optionalInt64(Int)
    case bool(Int), optionalBool(Int)
    case double(Int), optionalDouble(Int)
    case string(Int), optionalString(Int)
    case custom(@Sendable (UnsafeRawPointer) -> DatabaseValue)

    /// The value of this column in the row at `row`, the `position`-th of run `runID`'s list.
    @inline(__always)
    func value(in row: UnsafeRawPointer, runID: Int64, position: Int) -> DatabaseValue {
        switch self {
        case .runID: return runID.databaseValue
        case .position: return position.databaseValue
        case .int(let offset): return row.load(fromByteOffset: offset, as: Int.self).databaseValue
        case .optionalInt(let offset): return row.load(fromByteOffset: offset, as: Int?.self)?.databaseValue ?? .null
        case .int64(let offset): return row.load(fromByteOffset: offset, as: Int64.self).databaseValue
        case .optionalInt64(let offset):
            return row.load(fromByteOffset: offset, as: Int64?.self)?.databaseValue ?? .null
        case .bool(let offset): return row.load(fromByteOffset: offset, as: Bool.self).databaseValue
        case .optionalBool(let offset):
            return row.load(fromByteOffset: offset, as: Bool?.self)?.databaseValue ?? .null
        case .double(let offset): return row.load(fromByteOffset: offset, as: Double.self).databaseValue
        case .optionalDouble(let offset):
            return row.load(fromByteOffset: offset, as: Double?.self)?.databaseValue ?? .null
        case .string(let offset): return row.load(fromByteOffset: offset, as: String.self).databaseValue
        case .optionalString(let offset):
            return row.load(fromByteOffset: offset, as: String?.self)?.databaseValue ?? .null
        case .custom(let bind): return bind(row)
        }
    }

    /// Whether this column is NULL in the row at `row` (an optional stored value that is nil).
    @inline(__always)
    func isNull(in row: UnsafeRawPointer) -> Bool {
        switch self {
        case .optionalInt(let offset): return row.load(fromByteOffset: offset, as: Int?.self) == nil
        case .optionalInt64(let offset): return row.load(fromByteOffset: offset, as: Int64?.self) == nil
        case .optionalBool(let offset): return row.load(fromByteOffset: offset, as: Bool?.self) == nil
        case .optionalDouble(let offset): return row.load(fromByteOffset: offset, as: Double?.self) == nil
        case .optionalString(let offset): return row.load(fromByteOffset: offset, as: String?.self) == nil
        default: return false
        }
    }

    /// Whether the column can be NULL (an optional stored value).
    var isOptional: Bool {
        switch self {
        case .optionalInt, .optionalInt64, .optionalBool, .optionalDouble, .optionalString: return true
        default: return false
        }
    }
}

/// Where a column's values come from when a row is inserted, and where they go when it is read.
///
/// A value column reads and writes its property at the property's offset in the row, found once from its key
/// path: projecting a key path per value costs generic-metadata look-ups that made a million-row insert a third
/// slower, and a closure per column around a copy of the row retains its strings every time.
struct Field<Value>: Sendable {
    enum Source: Sendable {
        /// The run's id, given to the insert.
        case runID
        /// The row's 0-based position in the list inserted (event tables' `seq`).
        case position
        /// A property of the row value: its stored value from the row's address, and the decoding of a fetched
        /// row's column (at an index) into the row at an address.
        case value(bind: Binding, read: @Sendable (UnsafeMutableRawPointer, Row, Int) throws -> Void)
    }

    var column: ColumnDeclaration
    var source: Source

    /// `run_id`: every child table's reference to `run`.
    static var runID: Field {
        Field(
            column: ColumnDeclaration(
                "run_id", .integer, nullable: false, references: "run (id) ON DELETE CASCADE"),
            source: .runID)
    }

    /// A column holding the row's position in the run's list.
    static func position(_ name: String) -> Field {
        Field(column: ColumnDeclaration(name, .integer, nullable: false), source: .position)
    }

    /// The byte offset of the stored property at `keyPath`; a computed property is a programmer error.
    private static func offset<T>(_ keyPath: WritableKeyPath<Value, T>, _ name: String) -> Int {
        guard let offset = MemoryLayout<Value>.offset(of: keyPath) else {
            preconditionFailure("column \(name): \(keyPath) is not a stored property of \(Value.self)")
        }
        return offset
    }

    /// A NOT NULL column stored from the property at `keyPath`; its SQL type follows from the property's.
    static func column<T: StoredValueType>(
        _ name: String, _ keyPath: WritableKeyPath<Value, T>,
        defaultSQL: String? = nil, check: String? = nil, since: String = ""
    ) -> Field {
        let offset = offset(keyPath, name)
        return Field(
            column: ColumnDeclaration(
                name, T.sqlType, nullable: false, defaultSQL: defaultSQL, check: check, since: since),
            source: .value(
                bind: T.binding(offset: offset, optional: false),
                read: { row, fetched, index in
                    (row + offset).assumingMemoryBound(to: T.self).pointee = try fetched.decode(atIndex: index)
                }))
    }

    /// A nullable column stored from the optional property at `keyPath`; nil is NULL. Its SQL type follows from
    /// the property's.
    static func column<T: StoredValueType>(
        _ name: String, _ keyPath: WritableKeyPath<Value, T?>,
        check: String? = nil, since: String = ""
    ) -> Field {
        let offset = offset(keyPath, name)
        return Field(
            column: ColumnDeclaration(name, T.sqlType, nullable: true, check: check, since: since),
            source: .value(
                bind: T.binding(offset: offset, optional: true),
                read: { row, fetched, index in
                    (row + offset).assumingMemoryBound(to: T?.self).pointee = try fetched.decode(atIndex: index)
                }))
    }

    /// A column with its own mapping, for values not stored as they are held (a NaN stored as NULL).
    static func column(
        _ name: String, _ type: SQLType, nullable: Bool, since: String = "",
        bind: @escaping @Sendable (Value) -> DatabaseValue,
        read: @escaping @Sendable (inout Value, DatabaseValue) throws -> Void
    ) -> Field {
        Field(
            column: ColumnDeclaration(name, type, nullable: nullable, since: since),
            source: .value(
                bind: .custom { row in bind(row.assumingMemoryBound(to: Value.self).pointee) },
                read: { row, fetched, index in
                    try read(&row.assumingMemoryBound(to: Value.self).pointee, fetched[index])
                }))
    }
}

/// A results table whose rows are plain values: its declaration, and for each column where its values come
/// from. Inserts bind reused statements column by column (no per-row encoding); reads decode by position.
struct RowTable<Value: Sendable>: Sendable {
    /// The table as declared: DDL, column names, row order.
    let declaration: TableDeclaration
    /// One per column, in schema order.
    let fields: [Field<Value>]
    /// How an insert reads each column, in schema order.
    private let bindings: [Binding]
    /// The readers of the value columns, in `selectSQL` order.
    private let readers: [@Sendable (UnsafeMutableRawPointer, Row, Int) throws -> Void]
    /// A value every read starts from; every field of it is overwritten.
    let blank: Value
    /// Why a row must not be stored, checked in Swift so the error can name the row; nil if fine.
    let problem: @Sendable (Value) -> String?

    init(
        _ name: String, since: String, primaryKey: [String], withoutRowID: Bool, rowOrder: [String],
        blank: Value, problem: @escaping @Sendable (Value) -> String? = { _ in nil }, fields: [Field<Value>]
    ) {
        declaration = TableDeclaration(
            name: name, since: since, columns: fields.map(\.column), primaryKey: primaryKey, checks: [],
            withoutRowID: withoutRowID, indexes: [], rowOrder: rowOrder)
        self.fields = zip(fields, declaration.columns).map { field, column in
            var field = field
            field.column = column
            return field
        }
        let sources = self.fields.map(\.source)
        bindings = sources.map { source in
            switch source {
            case .runID: return .runID
            case .position: return .position
            case .value(let binding, _): return binding
            }
        }
        readers = sources.compactMap { source in
            if case .value(_, let read) = source { return read }
            return nil
        }
        self.blank = blank
        self.problem = problem
    }

    /// `INSERT INTO table (the included columns) VALUES` followed by `rows` placeholder groups; every column
    /// when `included` is nil.
    func insertSQL(rows: Int, included: [Bool]? = nil) -> String {
        let names = declaration.columnNames.indices.filter { included?[$0] ?? true }.map {
            declaration.columnNames[$0]
        }
        let group = "(" + Array(repeating: "?", count: names.count).joined(separator: ",") + ")"
        return "INSERT INTO \(declaration.name) (\(names.joined(separator: ", "))) VALUES "
            + Array(repeating: group, count: rows).joined(separator: ",")
    }

    /// For each column, whether any of `rows` holds a value in it: a nullable column that is NULL in every row
    /// is left out of their insert (it is NULL by default), which spares binding it. Runs without a mesh,
    /// sessions or disaggregation leave a third of the request columns NULL.
    func includedColumns(_ rows: UnsafeBufferPointer<Value>) -> [Bool] {
        bindings.map { binding in
            guard binding.isOptional, let base = rows.baseAddress else { return true }
            for position in rows.indices where !binding.isNull(in: UnsafeRawPointer(base + position)) { return true }
            return false
        }
    }

    /// Appends the values of the row at `row` in column order (only the included columns, when given).
    func appendValues(
        of row: UnsafePointer<Value>, runID: Int64, position: Int, included: [Bool]? = nil,
        to values: inout [DatabaseValue]
    ) {
        let row = UnsafeRawPointer(row)
        guard let included else {
            for binding in bindings { values.append(binding.value(in: row, runID: runID, position: position)) }
            return
        }
        for (binding, isIncluded) in zip(bindings, included) where isIncluded {
            values.append(binding.value(in: row, runID: runID, position: position))
        }
    }

    /// `SELECT` of the value columns of one run's rows, in the declared row order.
    var selectSQL: String {
        let names = fields.compactMap { field -> String? in
            if case .value = field.source { return field.column.name.quotedDatabaseIdentifier }
            return nil
        }
        let order = declaration.rowOrder.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
        return "SELECT \(names.joined(separator: ", ")) FROM \(declaration.name.quotedDatabaseIdentifier) "
            + "WHERE run_id = ? ORDER BY \(order)"
    }

    /// One run's rows in the declared row order.
    func fetchAll(_ db: Database, runID: Int64) throws -> [Value] {
        var rows: [Value] = []
        let cursor = try Row.fetchCursor(db, sql: selectSQL, arguments: [runID])
        while let row = try cursor.next() {
            var value = blank
            try withUnsafeMutablePointer(to: &value) { address in
                let address = UnsafeMutableRawPointer(address)
                for (index, read) in readers.enumerated() { try read(address, row, index) }
            }
            rows.append(value)
        }
        return rows
    }
}
