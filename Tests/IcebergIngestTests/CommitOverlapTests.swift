import Foundation
import IcebergCore
import Synchronization
import Testing
import TestSupport

@testable import IcebergIngest

/// A commit names its data files and saves the checkpoint listing them while their last row groups encode,
/// uploads each file as soon as it is closed, and writes its manifests once every file has closed, while the
/// last uploads run: the encoding (CPU) and the object store's answers overlap, and the order the
/// exactly-once protocol needs still holds (checkpoint before any upload, every upload done before the
/// catalog swap).
@Suite(.withinOneHour) struct CommitOverlapTests {
    /// `finishing()` names the files before they close; `finish(onClosed:)` reports each one, already
    /// completed files first, at its index in that order, and returns them in that order.
    @Test func filesAreReportedAsTheyCloseAtTheirPlaceInTheOrder() throws {
        let dir = try TestEnvironment.temporaryDirectory("finishing")
        defer { TestEnvironment.cleanUp(dir) }
        let schema = PartitionRouterTests.schema
        let layout = try ColumnLayout(schema: schema)
        var options = PartitionedDataWriter.Options()
        options.memoryBudgetBytes = 1  // every write closes all open files but one: some complete before `finish`
        let writer = PartitionedDataWriter(
            layout: layout, router: try PartitionRouter(spec: try SchemaText.partitionSpec("l", schema: schema), layout: layout), options: options,
            spoolDirectory: dir.path)
        for seed in 0..<3 as Range<UInt64> { try writer.write(try PartitionRouterTests.batch(rows: 3_000, seed: seed), source: Int(seed)) }
        let planned = writer.finishing()
        let heard = Mutex<[Int: String]>([:])
        let files = try writer.finish { index, file in
            heard.withLock { heard in
                #expect(heard[index] == nil, "file \(index) reported twice")
                heard[index] = file.localPath
            }
        }
        #expect(files.count > 6, "several files per partition: some completed early, the rest closed by finish")
        #expect(files.map(\.partition) == planned.map(\.partition))
        #expect(files.map(\.sources) == planned.map(\.sources))
        #expect(heard.withLock { $0 } == Dictionary(uniqueKeysWithValues: files.enumerated().map { ($0.offset, $0.element.localPath) }))
        for file in files { #expect(FileManager.default.fileExists(atPath: file.localPath)) }
    }

    /// A run over four hours writes four data files: the checkpoint and its lineage are saved before any of
    /// them is uploaded, each is uploaded once, the manifests come before the swap, and the swap (the
    /// commit's metadata file) after the last upload has ended; the table holds every row once (read back by
    /// PyIceberg).
    @Test func theCheckpointPrecedesEveryUploadAndTheSwapFollowsThem() async throws {
        let dir = try TestEnvironment.temporaryDirectory("commit-order")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("input").path
        let expected = try await PipelineSupport.generate(
            into: input, firstHour: PrefixLayout.hour(of: Date()) - 5, hours: 4, files: 1, records: 500, firstID: 1)
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        // Slow uploads: the manifests are written while they run, and the swap still waits for them.
        let io = CountingFileIO(recordsUploadEnds: true, uploadDelay: .milliseconds(300))
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse, io: io)
        let configuration = try PipelineSupport.configuration()
        let summary = try await Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose)).run()
        #expect(summary.dataFiles == 4 && summary.snapshotIDs.count == 1)
        let operations = io.operations()
        func first(_ match: (String) -> Bool) -> Int { operations.firstIndex(where: match) ?? .max }
        func last(_ match: (String) -> Bool) -> Int { operations.lastIndex(where: match) ?? .min }
        let uploads = operations.filter { $0.hasPrefix("upload ") && $0.hasSuffix(".parquet") }
        #expect(uploads.count == 4 && Set(uploads).count == 4, "\(operations)")
        func written(_ operation: String) -> Bool { operation.hasPrefix("create ") || operation.hasPrefix("write ") }
        let checkpoint = first { written($0) && $0.hasSuffix(".ckpt") && !$0.contains("/lineage/") }
        let lineage = first { written($0) && $0.contains("/lineage/") }
        let firstUpload = first { $0.hasPrefix("upload ") }, lastUploadEnd = last { $0.hasPrefix("uploaded ") }
        let manifest = first { $0.hasSuffix(".avro") }
        // The commit's metadata file: the table's second (the first is the create's).
        let swap = operations.indices.filter { written(operations[$0]) && operations[$0].hasSuffix(".metadata.json") }.dropFirst().first ?? .min
        #expect(checkpoint < .max && lineage < .max && manifest < .max, "\(operations)")
        #expect(checkpoint < firstUpload && lineage < firstUpload, "\(operations)")
        #expect(manifest < lastUploadEnd, "the manifests wait for no upload: \(operations)")
        #expect(manifest < swap && lastUploadEnd < swap, "\(operations)")
        let output = try await PipelineSupport.check(
            catalogPath: warehouse + "/catalog.db", warehouse: "file://" + warehouse, table: "db.events", expected: expected, in: dir)
        #expect(output.hasPrefix("OK 2000"), "\(output)")
    }

    /// A run lists its checkpoint versions once, in its recovery, which also trims the old ones: its last
    /// commit leaves the trim to the next run. Versions kept: the committed one and the three before it.
    @Test func aRunListsItsCheckpointVersionsOnce() async throws {
        let dir = try TestEnvironment.temporaryDirectory("ckpt-trim")
        defer { TestEnvironment.cleanUp(dir) }
        let input = dir.appendingPathComponent("input").path
        let warehouse = dir.appendingPathComponent("wh").path
        try FileManager.default.createDirectory(atPath: warehouse, withIntermediateDirectories: true)
        let io = CountingFileIO()
        let catalog = try SQLiteCatalog(path: warehouse + "/catalog.db", warehouse: warehouse, io: io)
        let configuration = try PipelineSupport.configuration()
        let firstHour = PrefixLayout.hour(of: Date()) - 5
        var expected: [String] = []
        for run in 0..<5 {
            expected.append(try await PipelineSupport.generate(into: input, firstHour: firstHour + Int32(run), hours: 1, files: 1, records: 10, firstID: 1 + run * 10))
            io.reset()
            let summary = try await Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: input, layout: .firehose)).run()
            #expect(summary.objectsIngested == 1)
            let listings = io.operations().filter { $0.hasPrefix("list ") && $0.hasSuffix("/0") }
            #expect(listings.count == 1, "run \(run + 1): \(listings)")
        }
        let table = try await catalog.loadTable(configuration.table)
        let checkpoints = try FileManager.default.subpathsOfDirectory(atPath: table.metadata.location + "/metadata/ingest-checkpoints")
            .filter { $0.hasSuffix(".ckpt") && !$0.contains("/lineage/") && !$0.contains("/archive/") }
            .map { ($0 as NSString).lastPathComponent }.sorted()
        #expect(checkpoints == (2...5).map { String(repeating: "0", count: 19) + "\($0).ckpt" })
        let output = try await PipelineSupport.check(
            catalogPath: warehouse + "/catalog.db", warehouse: "file://" + warehouse, table: "db.events", expected: try PipelineSupport.merge(expected), in: dir)
        #expect(output.hasPrefix("OK 50"), "\(output)")
    }
}
