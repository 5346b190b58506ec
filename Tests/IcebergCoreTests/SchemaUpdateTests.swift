import Foundation
import Testing
import TestSupport

@testable import IcebergCore

@Suite struct SchemaUpdateTests {
    static func metadata() throws -> TableMetadata {
        try TableMetadataBuilder.newTable(
            location: "/wh/t",
            schema: Schema(id: 0, fields: [
                .required(1, "id", .primitive(.int)),
                .optional(2, "amount", .primitive(.float)),
                .optional(3, "price", .primitive(.decimal(precision: 9, scale: 2))),
                .optional(4, "device", .struct(StructType([.optional(5, "os", .primitive(.string))]))),
                .optional(6, "name", .primitive(.string)),
            ]),
            nowMillis: 0)
    }

    @Test func addWidenRenameAndMakeOptional() throws {
        var update = SchemaUpdate(try Self.metadata())
        try update.addColumn("country", .primitive(.string))
        try update.addColumn("device.model", .primitive(.string))
        try update.addColumn("tags", .list(ListType(elementID: 0, element: .struct(StructType([.optional(0, "k", .primitive(.string))])), elementRequired: false)))
        try update.widen("id", to: .long)
        try update.widen("amount", to: .double)
        try update.widen("price", to: .decimal(precision: 18, scale: 2))
        try update.makeOptional("id")
        try update.rename("name", to: "user_name")
        let schema = update.schema
        try schema.validate()
        #expect(schema.field(named: "country")?.id == 7)
        #expect(schema.field(named: "device.model")?.id == 8)
        #expect(schema.field(named: "tags")?.id == 9)
        #expect(schema.field(named: "tags.element")?.id == 10)
        #expect(schema.field(named: "tags.element.k")?.id == 11)
        #expect(update.lastColumnID == 11)
        #expect(schema.field(named: "id")?.type == .primitive(.long))
        #expect(schema.field(named: "id")?.isRequired == false)
        #expect(schema.field(named: "user_name")?.id == 6)
        #expect(schema.field(named: "name") == nil)
        #expect(update.changes.count == 8)
    }

    @Test func unsafeChangesAreRejectedNamingTheField() throws {
        var update = SchemaUpdate(try Self.metadata())
        for (path, type) in [("name", PrimitiveType.int), ("amount", .int), ("price", .decimal(precision: 18, scale: 3)), ("price", .decimal(precision: 5, scale: 2))] {
            let error = #expect(throws: IcebergError.self) { try update.widen(path, to: type) }
            #expect(error?.message.contains("'\(path)'") == true)
        }
        #expect(throws: IcebergError.self) { try update.addColumn("name", .primitive(.string)) }
        #expect(throws: IcebergError.self) { try update.addColumn("nope.child", .primitive(.string)) }
        #expect(throws: IcebergError.self) { try update.rename("device", to: "amount") }
        #expect(update.isEmpty)
        #expect(update.lastColumnID == 6)  // failed additions give their ids back
    }

    /// PyIceberg wrote data under the old schema; after our evolution it reads those rows under the new one.
    @Test func pyIcebergReadsOldDataUnderTheEvolvedSchema() async throws {
        let dir = try TestEnvironment.temporaryDirectory("evolve")
        defer { TestEnvironment.cleanUp(dir) }
        try await PythonTool.run(
            """
            import sys, pyarrow as pa
            from pyiceberg.catalog.sql import SqlCatalog
            from pyiceberg.schema import Schema
            from pyiceberg.types import NestedField, IntegerType, FloatType, StringType
            c = SqlCatalog("c", uri=f"sqlite:///{sys.argv[1]}/catalog.db", warehouse=f"file://{sys.argv[1]}/wh")
            c.create_namespace("db")
            t = c.create_table("db.t", schema=Schema(NestedField(1, "id", IntegerType(), required=False),
                NestedField(2, "amount", FloatType(), required=False), NestedField(3, "name", StringType(), required=False)))
            t.append(pa.table({"id": pa.array([1, 2], pa.int32()), "amount": pa.array([1.5, 2.5], pa.float32()), "name": ["a", "b"]}))
            """, arguments: [dir.path])
        let catalog = try SQLiteCatalog(name: "c", path: dir.path + "/catalog.db", warehouse: "file://" + dir.path + "/wh")
        let identifier = TableIdentifier(namespace: ["db"], name: "t")
        let table = try await catalog.loadTable(identifier)
        var update = SchemaUpdate(table.metadata)
        try update.addColumn("country", .primitive(.string))
        try update.widen("id", to: .long)
        try update.widen("amount", to: .double)
        try update.rename("name", to: "user_name")
        let evolved = try await update.commit(table, catalog: catalog)
        #expect(evolved.metadata.schemas.count == 2)
        #expect(evolved.metadata.currentSchemaID == 1)
        // A second update from the stale table is a conflict, not a silent overwrite.
        var stale = SchemaUpdate(table.metadata)
        try stale.addColumn("other", .primitive(.int))
        let conflict = await #expect(throws: IcebergError.self) { try await stale.commit(table, catalog: catalog) }
        #expect(conflict?.code == .commitConflict)
        let output = try await PythonTool.run(
            """
            import sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            c = SqlCatalog("c", uri=f"sqlite:///{sys.argv[1]}/catalog.db", warehouse=f"file://{sys.argv[1]}/wh")
            t = c.load_table("db.t")
            rows = t.scan().to_arrow()
            print(json.dumps({"columns": rows.column_names, "types": [str(f.type) for f in rows.schema],
                              "rows": rows.to_pylist(), "history": len(t.schemas())}))
            """, arguments: [dir.path])
        let result = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(result["columns"] == .array(["id", "amount", "user_name", "country"].map { .string($0) }))
        // The widened columns come back widened (string columns may be string or large_string).
        guard case .array(let types)? = result["types"] else { Issue.record("no types in \(output)"); return }
        #expect(Array(types.prefix(2)) == [.string("int64"), .string("double")], "\(types)")
        #expect(result["rows"] == .array([
            .object([("id", .int(1)), ("amount", .double(1.5)), ("user_name", .string("a")), ("country", .null)]),
            .object([("id", .int(2)), ("amount", .double(2.5)), ("user_name", .string("b")), ("country", .null)]),
        ]))
        #expect(result["history"] == .int(2))
    }
}
