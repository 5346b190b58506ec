import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import Catalogs

/// The README's REST catalog example, statement for statement, against the test server with OAuth2 on
/// (the server's `warehouse` "lake" answers with a prefix).
@Suite struct RESTReadmeExampleTests {
    @Test func readmeExample() async throws {
        let clientID = "ingest", clientSecret = "s3cr3t"
        let server = try RESTTestServer(
            prefix: "lake", warehouseName: "lake", auth: .oauth2(clientID: clientID, secret: clientSecret, scope: "PRINCIPAL_ROLE:ALL", expiresIn: 3600))
        try await server.run { server in
            let schema = RESTTestData.schema
            let catalog = try await RESTCatalog(
                uri: server.url,
                properties: ["warehouse": "lake", "credential": "\(clientID):\(clientSecret)", "scope": "PRINCIPAL_ROLE:ALL"])
            try await catalog.createNamespace(["analytics"])
            var table = try await catalog.createTable(TableIdentifier(namespace: ["analytics"], name: "clicks"), schema: schema)
            let local = String(table.metadata.location.dropFirst("file://".count))
            var dataFile = try await #require(try RESTTestData.dataFiles(at: local + "/data", files: 1, rows: 7, start: 0).first)
            dataFile.partition = []  // the example's table is not partitioned
            var append = FastAppend(table: table, catalog: catalog)
            append.add(dataFile)
            table = try await append.commit()   // a commit the server refuses with 409 is rebuilt and retried

            #expect(table.metadata.currentSnapshot?.summary["total-records"] == "7")
            let read = try await RESTTestData.readWithPyIceberg(
                server: server.url, table: "analytics.clicks",
                properties: ["warehouse": "lake", "credential": "\(clientID):\(clientSecret)", "scope": "PRINCIPAL_ROLE:ALL"])
            #expect(read["rows"] == .int(7))
            #expect(read["metadata"] == .string(table.metadataLocation))
        }
    }
}
