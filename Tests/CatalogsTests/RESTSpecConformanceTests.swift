import Foundation
import IcebergCore
import S3Reader
import Testing
import TestSupport

@testable import Catalogs

/// Our JSON for every update and requirement against the REST spec's schemas, and the test server's
/// validator shown to reject what the spec does not allow (so its silence in the other tests means something).
@Suite(.serialized) struct RESTSpecConformanceTests {
    @Test func everyUpdateAndRequirementFollowsTheSpec() async throws {
        let schema = RESTTestData.schema
        let snapshot = Snapshot(
            id: 42, parentID: 41, sequenceNumber: 3, timestampMillis: 1_764_000_000_000, manifestList: "s3://b/t/metadata/snap-42.avro",
            summary: ["operation": "append", "added-records": "10"], schemaID: 0)
        let updates: [TableUpdate] = [
            .assignUUID(UUID()), .upgradeFormatVersion(2), .addSchema(schema, lastColumnID: 3), .setCurrentSchema(-1),
            .addSpec(RESTTestData.spec), .setDefaultSpec(-1),
            .addSortOrder(SortOrder(id: 1, fields: [SortField(sourceID: 1, transform: .bucket(16), direction: .descending, nullOrder: .nullsLast)])),
            .setDefaultSortOrder(1), .addSnapshot(snapshot), .setSnapshotRef(name: "main", ref: SnapshotRef(snapshotID: 42, kind: .branch)),
            .setSnapshotRef(name: "audit", ref: SnapshotRef(snapshotID: 42, kind: .tag, maxRefAgeMillis: 86_400_000)),
            .removeSnapshots([40, 41]), .removeSnapshotRef("audit"), .setLocation("s3://b/t2"), .setProperties(["a": "1"]),
            .removeProperties(["b"]),
        ]
        let requirements: [TableRequirement] = [
            .assertCreate, .assertTableUUID(UUID()), .assertRefSnapshotID(ref: "main", snapshotID: 42),
            .assertRefSnapshotID(ref: "main", snapshotID: nil), .assertLastAssignedFieldID(3), .assertCurrentSchemaID(0),
            .assertLastAssignedPartitionID(1000), .assertDefaultSpecID(0), .assertDefaultSortOrderID(0),
        ]
        var checks = updates.map { (schema: "TableUpdate", instance: $0.json) } + requirements.map { (schema: "TableRequirement", instance: $0.json) }
        checks.append((
            "CommitTableRequest",
            .object([
                ("identifier", .object([("namespace", .array([.string("db")])), ("name", .string("t"))])),
                ("requirements", .array(requirements.map(\.json))), ("updates", .array(updates.map(\.json))),
            ])
        ))
        let results = try await RESTTestServer.validate(checks)
        #expect(results.count == checks.count)
        for (check, problems) in zip(checks, results) {
            #expect(problems.isEmpty, "\(check.instance.serialized()) is not a valid \(check.schema): \(problems)")
        }

        // Controls: what the spec does not allow is caught.
        let bad: [(schema: String, instance: JSONValue)] = [
            ("TableUpdate", .object([("action", .string("set-properties")), ("updates", .object([("a", .int(1))]))])),
            ("TableUpdate", .object([("action", .string("set-colour")), ("colour", .string("red"))])),
            ("TableRequirement", .object([("type", .string("assert-bogus"))])),
            ("TableRequirement", .object([("type", .string("assert-ref-snapshot-id")), ("ref", .string("main"))])),
            ("CreateNamespaceRequest", .object([("namespace", .string("db"))])),
        ]
        for (check, problems) in await zip(bad, try RESTTestServer.validate(bad)) {
            #expect(!problems.isEmpty, "\(check.instance.serialized()) should not be a valid \(check.schema)")
        }
    }

    /// The live server answers 400 to requests outside the spec and records them.
    @Test func serverRejectsRequestsOutsideTheSpec() async throws {
        let server = try RESTTestServer(prefix: "p")
        defer { server.stop() }
        let catalog = try await RESTCatalog(uri: server.url)
        try await catalog.createNamespace(["db"])
        _ = try await catalog.createTable(TableIdentifier(namespace: ["db"], name: "t"), schema: RESTTestData.schema)
        #expect(try await server.violations().isEmpty)
        let table = "\(server.url)/v1/p/namespaces/db/tables/t"
        let badCommit = try await CurlTransport.shared.send(HTTPRequest(
            method: "POST", url: table, headers: [("Content-Type", "application/json")],
            body: Array(#"{"requirements": [{"type": "assert-bogus"}], "updates": []}"#.utf8)))
        #expect(badCommit.status == 400)
        let badQuery = try await CurlTransport.shared.send(HTTPRequest(method: "DELETE", url: "\(table)?purgeRequested=False"))
        #expect(badQuery.status == 400)
        let badType = try await CurlTransport.shared.send(HTTPRequest(
            method: "POST", url: "\(server.url)/v1/p/namespaces", headers: [("Content-Type", "text/plain")], body: Array("db2".utf8)))
        #expect(badType.status == 400)
        let violations = try await server.violations()
        #expect(violations.count == 3)
        #expect(violations.first?.contains("assert-bogus") == true)
        #expect(try await catalog.tableExists(TableIdentifier(namespace: ["db"], name: "t")), "the bad requests changed nothing")
    }
}
