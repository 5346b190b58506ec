import Foundation
import IcebergCore
import Testing
import TestSupport

/// The README's usage example, compiled and run, so the README stays true to the API.
@Suite struct ReadmeExampleTests {
    @Test func readmeExampleRuns() async throws {
        let dir = try TestEnvironment.temporaryDirectory("readme")
        defer { TestEnvironment.cleanUp(dir) }
        let warehouse = dir.path
        // --- README example (keep in step with README.md) ---
        let catalog = try SQLiteCatalog(name: "default", path: "\(warehouse)/catalog.db", warehouse: warehouse)
        try await catalog.createNamespace(["db"])
        let schema = Schema(id: 0, fields: [
            .required(1, "id", .primitive(.long)),
            .optional(2, "event_time", .primitive(.timestamptz)),
            .optional(3, "payload", .primitive(.string)),
        ])
        let spec = PartitionSpec(id: 0, fields: [
            PartitionField(sourceID: 2, fieldID: 1000, name: "event_time_hour", transform: .hour),
        ])
        var table = try await catalog.createTable(TableIdentifier(namespace: ["db"], name: "events"), schema: schema, spec: spec)

        // Commit a Parquet file (written with Iceberg field ids) as a new snapshot.
        var append = FastAppend(table: table, catalog: catalog)
        append.add(DataFile(filePath: "\(table.metadata.location)/data/part-0.parquet", partition: [.int(490_000)],
                            recordCount: 1_000, fileSizeInBytes: 52_311))
        append.summaryProperties["my-app.batch"] = "2026-11-24T10"
        table = try await append.commit()
        print(table.metadata.currentSnapshot?.summary["total-records"] ?? "0")  // 1000
        // --- end of README example ---
        #expect(table.metadata.currentSnapshot?.summary["total-records"] == "1000")
        #expect(table.metadata.currentSnapshot?.summary["my-app.batch"] == "2026-11-24T10")
    }
}
