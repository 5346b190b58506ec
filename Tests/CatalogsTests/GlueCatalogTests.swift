import Catalogs
import Foundation
import IcebergCore
import IcebergS3
import S3Reader
import Synchronization
import Testing
import TestSupport

/// The Glue catalog against moto's Glue service (the same server as S3), read and written in turn by
/// PyIceberg's `GlueCatalog`; the conflict path through a transport that answers UpdateTable with Glue's
/// ConcurrentModificationException.
@Suite struct GlueCatalogTests {
    static let schema = Schema(id: 0, fields: [.required(1, "id", .primitive(.long)), .optional(2, "name", .primitive(.string))])

    struct Setup {
        var endpoint: S3TestEndpoint
        var bucket: String
        var database: String
        func catalog(transport: any HTTPTransport = CurlTransport.shared) -> GlueCatalog {
            GlueCatalog(
                region: endpoint.region, endpoint: endpoint.endpoint, warehouse: "s3://\(bucket)/warehouse", io: S3FileIO(client: endpoint.client()),
                credentials: StaticCredentialsProvider(
                    AWSCredentials(accessKeyID: endpoint.accessKeyID, secretAccessKey: endpoint.secretAccessKey, sessionToken: endpoint.sessionToken)),
                transport: transport)
        }
        var pythonArguments: [String] { [endpoint.endpoint, endpoint.region, endpoint.accessKeyID, endpoint.secretAccessKey] }
    }

    /// moto keeps Glue databases for the server's life: every test uses a database of its own.
    static func setup(_ label: String) async throws -> Setup {
        let endpoint = try TestEnvironment.s3()
        let bucket = TestEnvironment.uniqueBucketName(label)
        try await endpoint.client().createBucket(bucket)
        return Setup(endpoint: endpoint, bucket: bucket, database: "db_" + UUID().uuidString.prefix(8).lowercased())
    }

    /// PyIceberg's GlueCatalog against the test server, as `catalog`; argv[1...4] = endpoint, region, key, secret.
    static let pyCatalog = """
        import sys, json
        from pyiceberg.catalog.glue import GlueCatalog
        endpoint, region, key, secret = sys.argv[1:5]
        catalog = GlueCatalog("glue", **{"glue.endpoint": endpoint, "glue.region": region, "glue.access-key-id": key,
                                         "glue.secret-access-key": secret, "s3.endpoint": endpoint, "s3.region": region,
                                         "s3.access-key-id": key, "s3.secret-access-key": secret})
        import boto3
        glue = boto3.client("glue", endpoint_url=endpoint, region_name=region, aws_access_key_id=key, aws_secret_access_key=secret)

        """

    static func append(ids: Range<Int>, to table: Table, catalog: any Catalog, in dir: URL) async throws -> Table {
        let file = try await GlueParquet.write(in: dir, ids: Array(ids))
        let location = "\(table.metadata.location)/data/\(UUID().uuidString.prefix(8)).parquet"
        try await table.io.write(location, contentsOfFile: file.path)
        var append = FastAppend(table: table, catalog: catalog)
        append.add(DataFile(filePath: location, recordCount: Int64(ids.count), fileSizeInBytes: file.size))
        return try await append.commit()
    }

    @Test func tablesWrittenHereAndByPyIcebergReadEachOther() async throws {
        let setup = try await Self.setup("glue-interop")
        let catalog = setup.catalog()
        let dir = try TestEnvironment.temporaryDirectory("glue")
        defer { TestEnvironment.cleanUp(dir) }
        let identifier = TableIdentifier(namespace: [setup.database], name: "events")

        try await catalog.createNamespace([setup.database], properties: ["owner": "ingest"])
        do {
            try await catalog.createNamespace([setup.database])
            Issue.record("a second CreateDatabase succeeded")
        } catch let error as IcebergError {
            #expect(error.code == .alreadyExists)
            #expect(error.message.contains("AlreadyExistsException"))
        }
        #expect(try await catalog.listNamespaces().contains([setup.database]))
        #expect(try await catalog.namespaceProperties([setup.database])["owner"] == "ingest")
        do {
            _ = try await catalog.loadTable(identifier)
            Issue.record("loading a missing table succeeded")
        } catch let error as IcebergError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("EntityNotFoundException"))
        }
        #expect(try await !catalog.tableExists(identifier))

        var table = try await catalog.createTable(identifier, schema: Self.schema, properties: ["comment": "events table"])
        #expect(table.metadata.location == "s3://\(setup.bucket)/warehouse/\(setup.database).db/events")
        #expect(try await catalog.tableExists(identifier))
        #expect(try await catalog.listTables([setup.database]) == [identifier])
        table = try await Self.append(ids: 0..<10, to: table, catalog: catalog, in: dir)
        let ourFirst = table.metadataLocation

        // PyIceberg reads our rows, checks the Glue record as boto3 returns it, and appends ten rows.
        let output = try await PythonTool.run(
            Self.pyCatalog + """
                import pyarrow as pa
                name = sys.argv[5]
                table = catalog.load_table(name)
                rows = table.scan().to_arrow()
                record = glue.get_table(DatabaseName=name.split(".")[0], Name=name.split(".")[1])["Table"]
                columns = {c["Name"]: c for c in record["StorageDescriptor"]["Columns"]}
                schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("name", pa.string())])
                table.append(pa.table([pa.array(range(100, 110), pa.int64()), pa.array(["p%d" % i for i in range(10)])], schema=schema))
                after = glue.get_table(DatabaseName=name.split(".")[0], Name=name.split(".")[1])["Table"]
                print(json.dumps({"rows": len(rows), "ids": sorted(rows.column("id").to_pylist()), "loaded": table.metadata_location,
                                  "table_type": record["Parameters"].get("table_type"), "glue_type": record.get("TableType"),
                                  "metadata_location": record["Parameters"].get("metadata_location"),
                                  "previous": record["Parameters"].get("previous_metadata_location"),
                                  "description": record.get("Description"), "location": record["StorageDescriptor"]["Location"],
                                  "id_column": [columns["id"]["Type"], columns["id"]["Parameters"]["iceberg.field.id"], columns["id"]["Parameters"]["iceberg.field.optional"]],
                                  "py_location": after["Parameters"]["metadata_location"],
                                  "py_previous": after["Parameters"].get("previous_metadata_location")}))
                """, arguments: setup.pythonArguments + [identifier.description])
        let result = try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(result["rows"] == .int(10))
        #expect(result["ids"] == .array((0..<10).map { .int(Int64($0)) }))
        #expect(result["table_type"] == .string("ICEBERG"))
        #expect(result["glue_type"] == .string("EXTERNAL_TABLE"))
        #expect(result["metadata_location"] == .string(ourFirst))
        #expect(result["previous"] != nil && result["previous"] != .null, "our commit should set previous_metadata_location")
        #expect(result["description"] == .string("events table"))
        #expect(result["location"] == .string(table.metadata.location))
        #expect(result["id_column"] == .array([.string("bigint"), .string("1"), .string("false")]))
        #expect(result["py_previous"] == .string(ourFirst))

        // We read PyIceberg's commit: its metadata file, its snapshot on top of ours, its data file's rows.
        guard case .string(let pyLocation)? = result["py_location"] else { throw TestEnvironmentError("no py_location in \(output)") }
        table = try await catalog.loadTable(identifier)
        #expect(table.metadataLocation == pyLocation)
        #expect(table.metadata.snapshots.count == 2)
        #expect(table.metadata.ancestors().count == 2)
        #expect(table.metadata.currentSnapshot?.summary["total-records"] == "20")
        let manifests = try ManifestCodec.readManifestList(try await table.io.read(table.metadata.currentSnapshot!.manifestList), location: "list")
        var records: Int64 = 0
        for manifest in manifests {
            let entries = try ManifestCodec.readManifest(
                try await table.io.read(manifest.path), manifest: manifest, schema: table.metadata.currentSchema,
                specs: table.metadata.partitionSpecs, location: manifest.path)
            records += entries.reduce(0) { $0 + $1.dataFile.recordCount }
        }
        #expect(records == 20)

        // Our append on top of PyIceberg's, read back by PyIceberg.
        table = try await Self.append(ids: 200..<205, to: table, catalog: catalog, in: dir)
        let back = try await PythonTool.run(
            Self.pyCatalog + """
                name = sys.argv[5]
                rows = catalog.load_table(name).scan().to_arrow()
                record = glue.get_table(DatabaseName=name.split(".")[0], Name=name.split(".")[1])["Table"]
                print(json.dumps({"rows": len(rows), "id_sum": sum(rows.column("id").to_pylist()),
                                  "previous": record["Parameters"].get("previous_metadata_location")}))
                """, arguments: setup.pythonArguments + [identifier.description])
        let final = try JSONValue.parse(back.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(final["rows"] == .int(25))
        let ids: [Int] = Array(0..<10) + Array(100..<110) + Array(200..<205)
        let idSum = Int64(ids.reduce(0, +))
        #expect(final["id_sum"] == .int(idSum))
        #expect(final["previous"] == .string(pyLocation))

        // Dropping: the database is not empty until the table is gone.
        await #expect(throws: IcebergError.self) { try await catalog.dropNamespace([setup.database]) }
        try await catalog.dropTable(identifier, purge: true)
        #expect(try await !catalog.tableExists(identifier))
        #expect(try await table.io.list(prefix: table.metadata.location + "/metadata/").isEmpty)
        try await catalog.dropNamespace([setup.database])
        #expect(try await !catalog.listNamespaces().contains([setup.database]))
    }

    /// This machine's clock an hour off Glue's: Glue refuses the first call ("Signature expired"); the client
    /// takes Glue's time from the answer and every later call goes through (the gate in front of moto plays
    /// Glue's clock). A wrong secret key still fails: its refusal comes with the right time.
    @Test func aSkewedClockCostsOneRefusedCall() async throws {
        let setup = try await Self.setup("glueskew")
        let gate = SkewedClockGate(offset: 3_600, service: .json)
        let catalog = setup.catalog(transport: gate)
        let identifier = TableIdentifier(namespace: [setup.database], name: "events")
        try await catalog.createNamespace([setup.database])
        #expect(gate.refused == 1)
        _ = try await catalog.createTable(identifier, schema: Self.schema)
        #expect(gate.refused == 1)
        #expect(try await setup.catalog().tableExists(identifier))

        let honest = SkewedClockGate(offset: 0, service: .json, inner: ScriptedGlueRefusal())
        await #expect(throws: IcebergError.self) { _ = try await setup.catalog(transport: honest).listNamespaces() }
        #expect(honest.passed == 1, "a signature refusal answered at the client's own time is not retried")
    }

    /// UpdateTable answered ConcurrentModificationException although it took effect (Glue applied it, the
    /// answer said otherwise): the catalog reads the table again, finds its own metadata, and succeeds.
    @Test func aConflictAnswerForOurOwnUpdateIsASuccess() async throws {
        let setup = try await Self.setup("glue-ours")
        let transport = GlueConflictTransport(mode: .applyThenConflict)
        let catalog = setup.catalog(transport: transport)
        let identifier = TableIdentifier(namespace: [setup.database], name: "t")
        try await catalog.createNamespace([setup.database])
        let created = try await catalog.createTable(identifier, schema: Self.schema)

        let committed = try await catalog.commit(identifier, requirements: [.assertTableUUID(created.metadata.tableUUID)], updates: [.setProperties(["k": "v"])])
        #expect(transport.conflictsAnswered == 1)
        #expect(transport.operations.suffix(2) == ["UpdateTable", "GetTable"], "the catalog should re-read the table after the conflict")
        let loaded = try await setup.catalog().loadTable(identifier)
        #expect(loaded.metadataLocation == committed.metadataLocation)
        #expect(loaded.metadata.properties["k"] == "v")
        #expect(try await loaded.io.exists(committed.metadataLocation))
    }

    /// The update landed, and before the catalog could look another writer committed on top of it: the table
    /// points elsewhere, but its metadata log lists ours, so the commit happened and must not be undone.
    @Test func aConflictAnswerForAnUpdateThatOthersBuiltOnIsASuccess() async throws {
        let setup = try await Self.setup("glue-built-on")
        let other = setup.catalog()
        let identifier = TableIdentifier(namespace: [setup.database], name: "t")
        let transport = GlueConflictTransport(mode: .applyThenOtherWriter { _ = try await other.commit(identifier, requirements: [], updates: [.setProperties(["by": "other"])]) })
        let catalog = setup.catalog(transport: transport)
        try await catalog.createNamespace([setup.database])
        _ = try await catalog.createTable(identifier, schema: Self.schema)

        let ours = try await catalog.commit(identifier, requirements: [], updates: [.setProperties(["ours": "yes"])])
        #expect(transport.conflictsAnswered == 1)
        let final = try await other.loadTable(identifier)
        #expect(final.metadataLocation != ours.metadataLocation)
        #expect(final.metadata.properties["ours"] == "yes" && final.metadata.properties["by"] == "other")
        #expect(final.metadata.metadataLog.last?.metadataFile == ours.metadataLocation)
        #expect(try await final.io.exists(ours.metadataLocation), "the catalog deleted a metadata file the table's history lists")
    }

    /// As above, but the other writer's metadata cannot be read when the catalog looks: whether it builds on
    /// ours is unknown, so the commit's outcome is unknown and our metadata file stays (it used to be
    /// deleted as a conflict's, though the table's history lists it).
    @Test func aConflictAnswerWhoseNewerMetadataCannotBeReadIsUnknown() async throws {
        let setup = try await Self.setup("glue-unreadable")
        let other = setup.catalog()
        let identifier = TableIdentifier(namespace: [setup.database], name: "t")
        let io = UnreadableMetadataIO(inner: S3FileIO(client: setup.endpoint.client()))
        let transport = GlueConflictTransport(mode: .applyThenOtherWriter {
            _ = try await other.commit(identifier, requirements: [], updates: [.setProperties(["by": "other"])])
            io.unreadable.withLock { $0 = true }
        })
        let catalog = GlueCatalog(
            region: setup.endpoint.region, endpoint: setup.endpoint.endpoint, warehouse: "s3://\(setup.bucket)/warehouse", io: io,
            credentials: StaticCredentialsProvider(
                AWSCredentials(accessKeyID: setup.endpoint.accessKeyID, secretAccessKey: setup.endpoint.secretAccessKey, sessionToken: setup.endpoint.sessionToken)),
            transport: transport)
        try await catalog.createNamespace([setup.database])
        _ = try await catalog.createTable(identifier, schema: Self.schema)

        let error = await #expect(throws: IcebergError.self) { _ = try await catalog.commit(identifier, requirements: [], updates: [.setProperties(["ours": "yes"])]) }
        #expect(error?.code == .commitStateUnknown, "\(error.map { "\($0)" } ?? "")")
        let final = try await other.loadTable(identifier)
        #expect(final.metadata.properties["ours"] == "yes" && final.metadata.properties["by"] == "other")
        let ours = try #require(final.metadata.metadataLog.last?.metadataFile)
        #expect(try await final.io.exists(ours), "the catalog deleted a metadata file the table's history lists")
    }

    /// Another writer's UpdateTable landed between our GetTable and our UpdateTable: Glue answers
    /// ConcurrentModificationException, the table points elsewhere, so the commit is a conflict and our
    /// metadata file is deleted; a FastAppend then rebuilds on the other writer's state and lands.
    @Test func aConflictAnswerAfterAnotherWritersUpdateIsAConflict() async throws {
        let setup = try await Self.setup("glue-theirs")
        let other = setup.catalog()
        let identifier = TableIdentifier(namespace: [setup.database], name: "t")
        let transport = GlueConflictTransport(mode: .otherWriterFirst { _ = try await other.commit(identifier, requirements: [], updates: [.setProperties(["by": "other"])]) })
        let catalog = setup.catalog(transport: transport)
        try await catalog.createNamespace([setup.database])
        let created = try await catalog.createTable(identifier, schema: Self.schema, properties: ["commit.retry.min-wait-ms": "1"])
        let metadataFolder = created.metadata.location + "/metadata/"
        let before = try await catalog.io.list(prefix: metadataFolder).filter { $0.location.hasSuffix(".metadata.json") }.count

        do {
            _ = try await catalog.commit(identifier, requirements: [], updates: [.setProperties(["by": "us"])])
            Issue.record("a commit that lost the race succeeded")
        } catch let error as IcebergError {
            #expect(error.code == .commitConflict)
        }
        #expect(transport.conflictsAnswered == 1)
        let afterConflict = try await catalog.loadTable(identifier)
        #expect(afterConflict.metadata.properties["by"] == "other")
        let files = try await catalog.io.list(prefix: metadataFolder).filter { $0.location.hasSuffix(".metadata.json") }
        #expect(files.count == before + 1, "our unreferenced metadata file should be deleted; found \(files.map(\.location))")

        // Once more with a FastAppend: the first UpdateTable conflicts, the retry lands on top.
        transport.arm(.otherWriterFirst { _ = try await other.commit(identifier, requirements: [], updates: [.setProperties(["by": "other-2"])]) })
        let dir = try TestEnvironment.temporaryDirectory("glue-conflict")
        defer { TestEnvironment.cleanUp(dir) }
        let appended = try await Self.append(ids: 0..<3, to: afterConflict, catalog: catalog, in: dir)
        #expect(transport.conflictsAnswered == 2)
        let final = try await other.loadTable(identifier)
        #expect(final.metadataLocation == appended.metadataLocation)
        #expect(final.metadata.properties["by"] == "other-2")
        #expect(final.metadata.currentSnapshot?.summary["total-records"] == "3")
    }

    /// CreateTable answered AlreadyExists (a retry of a create that took effect, perhaps), and the table then
    /// cannot be read: whether it is this call's is unknown, so the create says so and its metadata file
    /// stays (it used to be deleted, which would leave the table, if it was ours, pointing at nothing).
    @Test func anExistingTableThatCannotBeReadLeavesTheCreateUnknown() async throws {
        let dir = try TestEnvironment.temporaryDirectory("glue-create-unknown")
        defer { TestEnvironment.cleanUp(dir) }
        let script = GlueScriptedTransport(responses: [
            HTTPResponse(status: 200, body: Array(#"{"Database":{"Name":"db","Parameters":{}}}"#.utf8)),
            HTTPResponse(status: 400, body: Array(#"{"__type":"AlreadyExistsException","Message":"Table already exists."}"#.utf8)),
            HTTPResponse(status: 400, body: Array(#"{"__type":"AccessDeniedException","Message":"no"}"#.utf8)),
        ])
        let catalog = GlueCatalog(
            region: "eu-west-1", warehouse: dir.path + "/wh", io: LocalFileIO(),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret")), transport: script, retryPolicy: .none)
        let error = await #expect(throws: IcebergError.self) {
            _ = try await catalog.createTable(TableIdentifier(namespace: ["db"], name: "t"), schema: Self.schema)
        }
        #expect(error?.code == .commitStateUnknown, "\(error.map { "\($0)" } ?? "")")
        let written = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/wh/db.db/t/metadata").filter { $0.hasSuffix(".metadata.json") }
        #expect(written.count == 1, "the create's metadata file must stay: \(written)")
        #expect(script.requests.count == 3)
    }

    @Test func errorsNameTheServiceTypeAndObject() async throws {
        let failures = GlueScriptedTransport(responses: [
            HTTPResponse(status: 400, body: Array(#"{"__type":"com.amazonaws.glue#EntityNotFoundException","message":"Database nope not found."}"#.utf8)),
            HTTPResponse(status: 400, headers: ["x-amzn-requestid": "req-1"], body: Array(#"{"__type":"AccessDeniedException","Message":"no"}"#.utf8)),
        ])
        let catalog = GlueCatalog(
            region: "eu-west-1", io: LocalFileIO(), credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret")),
            transport: failures, retryPolicy: .none)
        #expect(catalog.endpoint == "https://glue.eu-west-1.amazonaws.com")
        do {
            _ = try await catalog.namespaceProperties(["nope"])
            Issue.record("GetDatabase of a missing database succeeded")
        } catch let error as IcebergError {
            #expect(error.code == .notFound)
            #expect(error.message == "Glue GetDatabase on database nope: EntityNotFoundException: Database nope not found.")
        }
        do {
            _ = try await catalog.listNamespaces()
            Issue.record("an access-denied GetDatabases succeeded")
        } catch let error as IcebergError {
            #expect(error.code == .catalog)
            #expect(error.message.contains("AccessDeniedException: no [request req-1]"))
        }
        // The requests: JSON 1.1 POSTs to the regional endpoint, signed for service glue.
        let sent = failures.requests
        #expect(sent.map(\.url) == ["https://glue.eu-west-1.amazonaws.com/", "https://glue.eu-west-1.amazonaws.com/"])
        let headers = Dictionary(sent[0].headers.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
        #expect(headers["x-amz-target"] == "AWSGlue.GetDatabase")
        #expect(headers["content-type"] == "application/x-amz-json-1.1")
        #expect(headers["authorization"]?.contains("/eu-west-1/glue/aws4_request") == true)
        #expect(String(decoding: sent[0].body ?? [], as: UTF8.self) == #"{"Name":"nope"}"#)
    }
}

/// Passes requests to the real transport, except UpdateTable once armed: then it answers the way Glue
/// does when the table's VersionId moved (HTTP 400, `ConcurrentModificationException`), either after
/// letting the update through (`applyThenConflict`) or after another writer's commit instead of it.
final class GlueConflictTransport: HTTPTransport, @unchecked Sendable {
    enum Mode {
        case applyThenConflict
        case otherWriterFirst(@Sendable () async throws -> Void)
        /// The update lands, another writer commits on top of it, then the conflict answer arrives.
        case applyThenOtherWriter(@Sendable () async throws -> Void)
    }

    // Safe: every access to the mutable state holds the lock.
    private let lock = NSLock()
    private var mode: Mode?
    private var answered = 0
    private var seen: [String] = []
    private let inner: any HTTPTransport

    init(mode: Mode, inner: any HTTPTransport = CurlTransport.shared) {
        self.mode = mode
        self.inner = inner
    }

    func arm(_ mode: Mode) { lock.withLock { self.mode = mode } }
    var conflictsAnswered: Int { lock.withLock { answered } }
    /// The Glue operations sent, in order.
    var operations: [String] { lock.withLock { seen } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let target = request.headers.first { $0.0.lowercased() == "x-amz-target" }?.1 ?? ""
        let operation = target.hasPrefix("AWSGlue.") ? String(target.dropFirst("AWSGlue.".count)) : ""
        let armed: Mode? = lock.withLock {
            if !operation.isEmpty { seen.append(operation) }
            guard operation == "UpdateTable", let mode else { return nil }
            self.mode = nil
            answered += 1
            return mode
        }
        guard let armed else { return try await inner.send(request) }
        switch armed {
        case .applyThenConflict: _ = try await inner.send(request)
        case .otherWriterFirst(let commit): try await commit()
        case .applyThenOtherWriter(let commit):
            _ = try await inner.send(request)
            try await commit()
        }
        let body = #"{"__type":"ConcurrentModificationException","message":"Update table failed due to concurrent modifications."}"#
        return HTTPResponse(status: 400, headers: ["content-type": "application/x-amz-json-1.1", "x-amzn-requestid": UUID().uuidString], body: Array(body.utf8))
    }
}

/// An object store whose metadata files cannot be read while `unreadable` is set.
final class UnreadableMetadataIO: FileIO, Sendable {
    let inner: any FileIO
    let unreadable = Mutex(false)
    init(inner: any FileIO) { self.inner = inner }

    private func check(_ location: String) throws {
        if location.hasSuffix(".metadata.json"), unreadable.withLock({ $0 }) { throw IcebergError(.io, "\(location): the store cannot be reached") }
    }
    func read(_ location: String) async throws -> [UInt8] {
        try check(location)
        return try await inner.read(location)
    }
    func read(_ location: String, range: Range<Int64>) async throws -> [UInt8] {
        try check(location)
        return try await inner.read(location, range: range)
    }
    func size(_ location: String) async throws -> Int64 { try await inner.size(location) }
    func write(_ location: String, bytes: [UInt8]) async throws { try await inner.write(location, bytes: bytes) }
    func writeIfAbsent(_ location: String, bytes: [UInt8]) async throws { try await inner.writeIfAbsent(location, bytes: bytes) }
    func delete(_ location: String) async throws { try await inner.delete(location) }
    func exists(_ location: String) async throws -> Bool { try await inner.exists(location) }
    func list(prefix: String) async throws -> [FileInfo] { try await inner.list(prefix: prefix) }
}

/// Answers with the given responses in order and keeps the requests.
final class GlueScriptedTransport: HTTPTransport, @unchecked Sendable {
    // Safe: every access to the mutable state holds the lock.
    private let lock = NSLock()
    private var responses: [HTTPResponse]
    private var sent: [HTTPRequest] = []

    init(responses: [HTTPResponse]) { self.responses = responses }

    var requests: [HTTPRequest] { lock.withLock { sent } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try lock.withLock {
            sent.append(request)
            guard !responses.isEmpty else { throw S3Error(code: "NoScriptedResponse", message: "no response left for \(request.url)") }
            return responses.removeFirst()
        }
    }
}

/// Parquet files with Iceberg field ids, written by pyarrow for the tests' appends.
private enum GlueParquet {
    /// Writes `ids` (column `id`, field 1) and `name` = "n<id>" (field 2); returns the path and size.
    static func write(in dir: URL, ids: [Int]) async throws -> (path: String, size: Int64) {
        let path = dir.appendingPathComponent("\(UUID().uuidString.prefix(8)).parquet").path
        try await PythonTool.run(
            """
            import sys, pyarrow as pa, pyarrow.parquet as pq
            ids = [int(x) for x in sys.argv[2].split(",")]
            schema = pa.schema([pa.field("id", pa.int64(), nullable=False, metadata={"PARQUET:field_id": "1"}),
                                pa.field("name", pa.string(), metadata={"PARQUET:field_id": "2"})])
            pq.write_table(pa.table([pa.array(ids, pa.int64()), pa.array(["n%d" % i for i in ids])], schema=schema), sys.argv[1])
            """, arguments: [path, ids.map(String.init).joined(separator: ",")])
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        return (path, size)
    }
}

/// Glue refusing a call for a wrong key (`InvalidSignatureException`), with its time in the `Date` header.
final class ScriptedGlueRefusal: HTTPTransport, @unchecked Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = #"{"__type":"InvalidSignatureException","message":"The request signature we calculated does not match the signature you provided."}"#
        return HTTPResponse(status: 400, headers: ["date": SkewedClockGate.httpDate(Date())], body: Array(body.utf8))
    }
}
