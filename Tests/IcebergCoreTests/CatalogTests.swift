import Foundation
import Parquet
import Testing
import TestSupport

@testable import IcebergCore

@Suite struct CatalogTests {
    static let schema = Schema(id: 0, fields: [
        .required(1, "id", .primitive(.long)),
        .optional(2, "event_time", .primitive(.timestamptz)),
        .optional(3, "name", .primitive(.string)),
    ], identifierFieldIDs: [1])
    static let spec = PartitionSpec(id: 0, fields: [PartitionField(sourceID: 2, fieldID: 1000, name: "event_time_hour", transform: .hour)])
    static let events = TableIdentifier(namespace: ["db"], name: "events")

    @Test func localFileIOBasicsAndExclusiveCreate() async throws {
        let dir = try TestEnvironment.temporaryDirectory("fileio")
        defer { TestEnvironment.cleanUp(dir) }
        let io = LocalFileIO()
        let path = dir.path + "/a/b/c.bin"
        try await io.write(path, bytes: [1, 2, 3, 4, 5])
        #expect(try await io.read("file://" + path) == [1, 2, 3, 4, 5])
        #expect(try await io.read(path, range: 1..<3) == [2, 3])
        #expect(try await io.read(path, range: 3..<99) == [4, 5])
        #expect(try await io.size(path) == 5)
        #expect(try await io.list(prefix: dir.path + "/a/").map(\.location) == [path])
        let missing = await #expect(throws: IcebergError.self) { try await io.read(dir.path + "/nope") }
        #expect(missing?.code == .notFound)
        // Eight racing exclusive creates: exactly one wins, the file holds the winner's bytes.
        let target = dir.path + "/race.json"
        let winners = await withTaskGroup(of: UInt8?.self) { group in
            for writer in UInt8(0)..<8 {
                group.addTask { (try? await io.writeIfAbsent(target, bytes: [writer])) == nil ? nil : writer }
            }
            var won: [UInt8] = []
            for await result in group { if let result { won.append(result) } }
            return won
        }
        #expect(winners.count == 1)
        #expect(try await io.read(target) == winners)
        try await io.delete(target)
        try await io.delete(target)  // deleting a missing file is fine
        #expect(try await !io.exists(target))
    }

    @Test func sqliteCatalogIsReadByPyIceberg() async throws {
        let dir = try TestEnvironment.temporaryDirectory("sqlcat")
        defer { TestEnvironment.cleanUp(dir) }
        let catalog = try SQLiteCatalog(name: "ingest", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await catalog.createNamespace(["db"])
        let table = try await catalog.createTable(Self.events, schema: Self.schema, spec: Self.spec, properties: ["owner": "tests"])
        #expect(table.metadataLocation.contains("/wh/db.db/events/metadata/00000-"))
        // A schema change and a property, each a commit with its requirement.
        var added = Self.schema
        added.fields.append(.optional(4, "country", .primitive(.string)))
        let evolved = try await catalog.commit(
            Self.events, requirements: [.assertCurrentSchemaID(0), .assertLastAssignedFieldID(3)],
            updates: [.addSchema(added, lastColumnID: 4), .setCurrentSchema(-1)])
        #expect(evolved.metadata.currentSchemaID == 1)
        #expect(evolved.metadata.lastColumnID == 4)
        let final = try await catalog.commit(Self.events, requirements: [], updates: [.setProperties(["stage": "two"])])
        #expect(final.metadataLocation.contains("/metadata/00002-"))
        #expect(final.metadata.metadataLog.count == 2)
        // A requirement that no longer holds is a conflict, and nothing changes.
        let stale = await #expect(throws: IcebergError.self) {
            try await catalog.commit(Self.events, requirements: [.assertCurrentSchemaID(0)], updates: [.setProperties(["x": "y"])])
        }
        #expect(stale?.code == .commitConflict)
        #expect(try await catalog.loadTable(Self.events).metadataLocation == final.metadataLocation)

        let output = try await PythonTool.run(
            """
            import sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            c = SqlCatalog("ingest", uri=f"sqlite:///{sys.argv[1]}/catalog.db", warehouse=f"file://{sys.argv[1]}/wh")
            t = c.load_table("db.events")
            print(json.dumps({"fields": [f.name for f in t.schema().fields], "schema_id": t.schema().schema_id,
                              "props": t.properties, "spec": [str(f.transform) for f in t.spec().fields],
                              "tables": [".".join(i) for i in c.list_tables("db")], "rows": len(t.scan().to_arrow())}))
            """, arguments: [dir.path])
        let result = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(result["fields"] == .array(["id", "event_time", "name", "country"].map { .string($0) }))
        #expect(result["schema_id"] == .int(1))
        #expect(result["props"]?["owner"] == .string("tests"))
        #expect(result["props"]?["stage"] == .string("two"))
        #expect(result["spec"] == .array([.string("hour")]))
        #expect(result["tables"] == .array([.string("db.events")]))
        #expect(result["rows"] == .int(0))
    }

    @Test func pyIcebergTablesLoadInOurSQLiteCatalog() async throws {
        let dir = try TestEnvironment.temporaryDirectory("sqlcat2")
        defer { TestEnvironment.cleanUp(dir) }
        try await PythonTool.run(
            """
            import sys, pyarrow as pa
            from pyiceberg.catalog.sql import SqlCatalog
            c = SqlCatalog("shared", uri=f"sqlite:///{sys.argv[1]}/catalog.db", warehouse=f"file://{sys.argv[1]}/wh")
            c.create_namespace("db")
            t = c.create_table("db.events", schema=pa.schema([("id", pa.int64()), ("name", pa.string())]))
            t.append(pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}))
            t.append(pa.table({"id": [4], "name": ["d"]}))
            """, arguments: [dir.path])
        let catalog = try SQLiteCatalog(name: "shared", path: dir.path + "/catalog.db", warehouse: "file://" + dir.path + "/wh")
        #expect(try await catalog.listNamespaces() == [["db"]])
        let table = try await catalog.loadTable(Self.events)
        #expect(table.metadata.snapshots.count == 2)
        #expect(table.metadata.currentSnapshot?.summary["total-records"] == "4")
        #expect(table.metadata.currentSchema.fields.map(\.name) == ["id", "name"])
        // Their manifest list and manifests, read by our codec, with inherited sequence numbers.
        let snapshot = try #require(table.metadata.currentSnapshot)
        let manifests = try ManifestCodec.readManifestList(try await table.io.read(snapshot.manifestList), location: snapshot.manifestList)
        #expect(manifests.count == 2)
        #expect(manifests.map(\.addedRowsCount).sorted() == [1, 3])
        #expect(Set(manifests.map(\.sequenceNumber)) == [1, 2])
        var records: Int64 = 0
        for manifest in manifests {
            let entries = try ManifestCodec.readManifest(
                try await table.io.read(manifest.path), manifest: manifest, schema: table.metadata.currentSchema,
                specs: table.metadata.partitionSpecs, location: manifest.path)
            #expect(entries.allSatisfy { $0.sequenceNumber == manifest.sequenceNumber && $0.dataFile.fileFormat == "PARQUET" })
            #expect(entries.allSatisfy { ($0.dataFile.lowerBounds[1]?.count ?? 0) == 8 })  // long bounds, Appendix D
            records += entries.reduce(0) { $0 + $1.dataFile.recordCount }
        }
        #expect(records == 4)
        // Our commit on their table, then PyIceberg sees it and still reads its rows.
        let touched = try await catalog.commit(Self.events, requirements: [.assertTableUUID(table.metadata.tableUUID)], updates: [.setProperties(["touched": "yes"])])
        // A Parquet file of ours, appended on top of their snapshots.
        let path = "\(dir.path)/wh/db/events/data/ours.parquet"
        let writer = ParquetFileWriter(
            schema: ParquetSchema(columns: [ParquetColumn(name: "id", fieldID: 1, type: .long), ParquetColumn(name: "name", fieldID: 2, type: .string)]),
            output: MemoryParquetOutput())
        var names = ColumnData.byteArrays()
        for name in ["e", "f"] { names.append(string: name) }
        try writer.write([ColumnData(values: .int64([5, 6])), names])
        let metrics = try writer.close()
        try await table.io.write(path, bytes: writer.output.bytes)
        var append = FastAppend(table: touched, catalog: catalog)
        append.add(DataFile(
            filePath: "file://" + path, recordCount: metrics.recordCount, fileSizeInBytes: metrics.fileSize, columnSizes: metrics.columnSizes,
            valueCounts: metrics.valueCounts, nullValueCounts: metrics.nullValueCounts, lowerBounds: metrics.lowerBounds,
            upperBounds: metrics.upperBounds, splitOffsets: metrics.splitOffsets))
        let appended = try await append.commit()
        #expect(appended.metadata.currentSnapshot?.summary["total-records"] == "6")
        #expect(appended.metadata.snapshots.count == 3)
        let output = try await PythonTool.run(
            """
            import sys
            from pyiceberg.catalog.sql import SqlCatalog
            c = SqlCatalog("shared", uri=f"sqlite:///{sys.argv[1]}/catalog.db", warehouse=f"file://{sys.argv[1]}/wh")
            t = c.load_table("db.events")
            rows = t.scan().to_arrow()
            print(t.properties.get("touched"), len(rows), sorted(rows.column("id").to_pylist()), "".join(sorted(rows.column("name").to_pylist())))
            """, arguments: [dir.path])
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "yes 6 [1, 2, 3, 4, 5, 6] abcdef")
    }

    /// Two catalogs on one SQLite file commit concurrently: every commit either lands or gets a conflict,
    /// and the table's history holds exactly the ones that landed.
    @Test func concurrentCommittersNeverLoseACommit() async throws {
        let dir = try TestEnvironment.temporaryDirectory("sqlcat3")
        defer { TestEnvironment.cleanUp(dir) }
        let a = try SQLiteCatalog(name: "c", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        let b = try SQLiteCatalog(name: "c", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await a.createNamespace(["db"])
        _ = try await a.createTable(Self.events, schema: Self.schema)
        let outcomes = await withTaskGroup(of: (String, Bool).self) { group in
            for i in 0..<20 {
                let catalog = i % 2 == 0 ? a : b
                group.addTask {
                    do {
                        _ = try await catalog.commit(Self.events, requirements: [], updates: [.setProperties(["k\(i)": "v"])])
                        return ("k\(i)", true)
                    } catch let error as IcebergError {
                        #expect(error.code == .commitConflict, "\(error)")
                        return ("k\(i)", false)
                    } catch {
                        Issue.record("unexpected \(error)")
                        return ("k\(i)", false)
                    }
                }
            }
            var results: [(String, Bool)] = []
            for await outcome in group { results.append(outcome) }
            return results
        }
        let landed = Set(outcomes.filter(\.1).map(\.0))
        #expect(!landed.isEmpty)
        let table = try await a.loadTable(Self.events)
        #expect(Set(table.metadata.properties.keys.filter { $0.hasPrefix("k") }) == landed)
        #expect(table.metadata.metadataLog.count == landed.count)
    }

    /// A metadata file never changes once written, so the SQLite catalog reads each one at most once: not
    /// after creating or committing it, not to load a table whose pointer has not moved, and not for a
    /// commit's check against it. A pointer another catalog moved is read, once; what is remembered
    /// is what the file holds.
    @Test func sqliteCatalogReadsEachMetadataFileOnce() async throws {
        let dir = try TestEnvironment.temporaryDirectory("sqlcat-cache")
        defer { TestEnvironment.cleanUp(dir) }
        let io = CountingFileIO()
        let a = try SQLiteCatalog(name: "c", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh", io: io)
        let b = try SQLiteCatalog(name: "c", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await a.createNamespace(["db"])
        let created = try await a.createTable(Self.events, schema: Self.schema, spec: Self.spec)
        let loaded = try await a.loadTable(Self.events)
        let committed = try await a.commit(Self.events, requirements: [.assertCurrentSchemaID(0)], updates: [.setProperties(["k": "v"])])
        let reloaded = try await a.loadTable(Self.events)
        #expect(io.operations().filter { $0.hasPrefix("read") }.isEmpty, "\(io.operations())")
        #expect(loaded.metadata == created.metadata && reloaded.metadata == committed.metadata)
        // What the catalog remembered equals what the files hold.
        #expect(try await MetadataFiles.read(created.metadataLocation, io: LocalFileIO()) == created.metadata)
        #expect(try await MetadataFiles.read(committed.metadataLocation, io: LocalFileIO()) == committed.metadata)

        // Another catalog (another process) moves the pointer: the next load reads the new file, once.
        let moved = try await b.commit(Self.events, requirements: [], updates: [.setProperties(["k": "w"])])
        io.reset()
        let seen = try await a.loadTable(Self.events)
        _ = try await a.commit(Self.events, requirements: [.assertCurrentSchemaID(0)], updates: [.setProperties(["k": "x"])])
        #expect(seen.metadataLocation == moved.metadataLocation && seen.metadata.properties["k"] == "w")
        #expect(io.operations().filter { $0.hasPrefix("read") } == ["read \(moved.metadataLocation)"])
    }

    /// The cache keeps one metadata file per table (a long run of commits holds its table's newest, not one
    /// per commit), and evicts the table used least recently.
    @Test func metadataCacheKeepsOneVersionPerTableAndTheRecentTables() async throws {
        let dir = try TestEnvironment.temporaryDirectory("metadata-cache")
        defer { TestEnvironment.cleanUp(dir) }
        let catalog = try SQLiteCatalog(name: "c", path: dir.path + "/catalog.db", warehouse: dir.path + "/wh")
        try await catalog.createNamespace(["db"])
        var tables: [Table] = []
        for name in ["a", "b", "c"] { tables.append(try await catalog.createTable(TableIdentifier(namespace: ["db"], name: name), schema: Self.schema)) }
        let committed = try await catalog.commit(tables[0].identifier, requirements: [], updates: [.setProperties(["k": "v"])])
        let io = CountingFileIO()
        // One version per table: a's newest replaces its first.
        let perTable = MetadataCache()
        perTable.remember(tables[0].metadata, at: tables[0].metadataLocation)
        perTable.remember(committed.metadata, at: committed.metadataLocation)
        #expect(try await perTable.metadata(at: committed.metadataLocation, io: io) == committed.metadata)
        #expect(io.operations().isEmpty)
        #expect(try await perTable.metadata(at: tables[0].metadataLocation, io: io) == tables[0].metadata)
        #expect(io.operations() == ["read \(tables[0].metadataLocation)"])
        // Two tables kept: b, used after c, stays when a comes; c goes.
        io.reset()
        let recent = MetadataCache(capacity: 2)
        recent.remember(tables[1].metadata, at: tables[1].metadataLocation)
        recent.remember(tables[2].metadata, at: tables[2].metadataLocation)
        _ = try await recent.metadata(at: tables[1].metadataLocation, io: io)
        recent.remember(committed.metadata, at: committed.metadataLocation)
        _ = try await recent.metadata(at: tables[1].metadataLocation, io: io)
        #expect(try await recent.metadata(at: tables[2].metadataLocation, io: io) == tables[2].metadata)
        #expect(io.operations() == ["read \(tables[2].metadataLocation)"])
    }

    @Test func inMemoryCatalogLifecycle() async throws {
        let dir = try TestEnvironment.temporaryDirectory("memcat")
        defer { TestEnvironment.cleanUp(dir) }
        let catalog = InMemoryCatalog(warehouse: dir.path)
        try await catalog.createNamespace(["db"], properties: ["a": "b"])
        #expect(try await catalog.namespaceProperties(["db"]) == ["a": "b"])
        _ = try await catalog.createTable(Self.events, schema: Self.schema, spec: Self.spec)
        let again = await #expect(throws: IcebergError.self) { try await catalog.createTable(Self.events, schema: Self.schema) }
        #expect(again?.code == .alreadyExists)
        #expect(await catalog.listTables(["db"]) == [Self.events])
        let nonEmpty = await #expect(throws: IcebergError.self) { try await catalog.dropNamespace(["db"]) }
        #expect(nonEmpty?.code == .invalidArgument)
        try await catalog.dropTable(Self.events, purge: false)
        #expect(await !catalog.tableExists(Self.events))
        try await catalog.dropNamespace(["db"])
        #expect(await catalog.listNamespaces().isEmpty)
    }
}
