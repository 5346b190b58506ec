import Foundation
import IcebergCore
import Logging
import Parquet

/// Bin-packs a table's small data files: per partition, the files smaller than `smallFileRatio` of the
/// target size are grouped into bins of about `targetFileSizeBytes`, each bin's rows are read (our Parquet
/// reader, columns matched by field id against the current schema) and written into target-size files
/// (the pipeline's writer, with its metrics), and all of it is committed as one `replace` snapshot.
///
/// Files that row-level deletes may apply to are left alone: a partition with a live delete file (Spark's
/// merge-on-read `DELETE`, `UPDATE` or `MERGE` writes them) is not compacted, since rewriting its rows
/// without applying the deletes would bring deleted rows back; a delete file of an unpartitioned spec may
/// apply to any file, so then nothing is. ``Result/skippedForDeletes`` counts those files and the log says
/// why; a rewrite that applies the deletes (Spark's `rewrite_data_files`) clears them.
///
/// A concurrent append is harmless (it never touches the files being rewritten): the commit is rebuilt on
/// it. A concurrent commit that removed one of the input files, or that added delete files that may apply
/// to one (a merge-on-read `DELETE` while the compaction ran: the new files would escape it), makes the
/// commit fail with `IcebergError` `.validationFailed`; the new files are deleted and the table is as that
/// commit left it.
///
/// ```swift
/// var compaction = Compaction(table: table, catalog: catalog)
/// compaction.targetFileSizeBytes = 64 << 20
/// let plan = try await compaction.run(dryRun: true)
/// print(plan.inputFiles.count, "files in", plan.groups, "groups")
/// let done = try await compaction.run()
/// ```
public struct Compaction: Sendable {
    public var table: Table
    public let catalog: any Catalog
    /// Size of the files written; nil: the table's `write.target-file-size-bytes`, else 128 MiB.
    public var targetFileSizeBytes: Int?
    /// Files smaller than this fraction of the target are compacted (default 0.75).
    public var smallFileRatio = 0.75
    /// A partition is compacted only when it has at least this many small files (default 2).
    public var minInputFiles = 2
    /// zstd level of the files written.
    public var zstdLevel: Int32 = 1
    public var logger: Logger
    /// Called before the commit, after the new files are uploaded (tests make a concurrent commit here).
    package var beforeCommit: (@Sendable () async throws -> Void)?

    public init(table: Table, catalog: any Catalog, logger: Logger = Logger(label: "iceberg-ingest", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.table = table
        self.catalog = catalog
        self.logger = logger
    }

    /// What a compaction rewrote (or, in a dry run, would rewrite).
    public struct Result: Sendable, Codable, Equatable {
        public var dryRun: Bool
        /// Bins of files rewritten together.
        public var groups: Int
        public var inputFiles: [String]
        public var inputBytes: Int64
        public var outputFiles: [String]
        public var outputBytes: Int64
        public var rows: Int64
        /// Small files left alone because row-level delete files may apply to them (see the type's note).
        public var skippedForDeletes: Int = 0
        /// The replace snapshot (nil for a dry run or when there was nothing to do).
        public var snapshotID: Int64?

        public var jsonLine: String { JSONLine.encode(self) }
    }

    /// The target size in effect.
    public var effectiveTargetBytes: Int {
        targetFileSizeBytes ?? table.metadata.intProperty("write.target-file-size-bytes", default: 128 << 20)
    }

    /// Plans the bins, and unless `dryRun` rewrites and commits them.
    public func run(dryRun: Bool = false) async throws -> Result {
        let (bins, skipped) = try await plan()
        let inputs = bins.flatMap { $0 }
        var result = Result(
            dryRun: dryRun, groups: bins.count, inputFiles: inputs.map(\.filePath), inputBytes: inputs.reduce(0) { $0 + $1.fileSizeInBytes },
            outputFiles: [], outputBytes: 0, rows: inputs.reduce(0) { $0 + $1.recordCount }, skippedForDeletes: skipped, snapshotID: nil)
        if skipped > 0 {
            logger.notice(
                "compaction of \(table.identifier) leaves \(skipped) small files alone: row-level delete files may apply to them (rewrite them with an engine that applies deletes, such as Spark's rewrite_data_files)")
        }
        guard !dryRun, !bins.isEmpty else { return result }

        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("iceberg-compact-\(UUID().uuidString.lowercased())").path
        try await BlockingExecutor.run { try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(atPath: spool) }
        var outputs: [DataFile] = []
        do {
            for bin in bins { outputs += try await rewrite(bin, spool: spool) }
            try await beforeCommit?()
            var replace = RewriteFiles(table: table, catalog: catalog, operation: .replace)
            replace.delete(paths: inputs.map(\.filePath))
            replace.add(contentsOf: outputs)
            replace.summaryProperties["iceberg-ingest.compaction"] = "bin-pack"
            // Planned where no delete file applied: one that arrived since would not apply to the new files.
            let planned = inputs
            replace.validateRebase = { base in
                let coverage = try await base.deleteCoverage()
                guard let covered = planned.first(where: coverage.mayApply) else { return }
                throw IcebergError(
                    .validationFailed,
                    "compaction of \(base.identifier): row-level delete files that may apply to \(covered.filePath) were committed while it ran; nothing was replaced")
            }
            let logger = self.logger
            replace.onRetry = { attempt, error in logger.notice("compaction commit conflict, retry \(attempt): \(error.message)") }
            let committed = try await replace.commit()
            result.snapshotID = committed.metadata.currentSnapshotID
        } catch let error as IcebergError where error.code == .commitStateUnknown {
            throw error  // the new files may be in the table now
        } catch {
            for file in outputs { try? await table.io.delete(file.filePath) }
            throw error
        }
        result.outputFiles = outputs.map(\.filePath)
        result.outputBytes = outputs.reduce(0) { $0 + $1.fileSizeInBytes }
        logger.info("compacted \(inputs.count) files of \(table.identifier) into \(outputs.count)")
        return result
    }

    /// The bins: per partition of the default spec, small Parquet data files packed up to the target size;
    /// and how many small files were left out because delete files may apply to them.
    func plan() async throws -> (bins: [[DataFile]], skippedForDeletes: Int) {
        let target = Int64(effectiveTargetBytes)
        let threshold = Int64(Double(target) * smallFileRatio)
        let spec = table.metadata.defaultSpec
        var small = try await table.liveDataFiles().filter {
            $0.content == 0 && $0.specID == spec.id && $0.fileFormat.uppercased() == "PARQUET" && $0.fileSizeInBytes < threshold
        }
        let deletes = try await table.deleteCoverage()
        let before = small.count
        small.removeAll { deletes.mayApply(to: $0) }
        let skipped = before - small.count
        var byPartition: [[Literal?]: [DataFile]] = [:]
        for file in small { byPartition[file.partition, default: []].append(file) }
        var bins: [[DataFile]] = []
        for (_, files) in byPartition.sorted(by: { $0.value[0].filePath < $1.value[0].filePath }) where files.count >= minInputFiles {
            // First fit by decreasing size.
            var packed: [(size: Int64, files: [DataFile])] = []
            for file in files.sorted(by: { ($0.fileSizeInBytes, $0.filePath) > ($1.fileSizeInBytes, $1.filePath) }) {
                if let i = packed.firstIndex(where: { $0.size + file.fileSizeInBytes <= target }) {
                    packed[i].size += file.fileSizeInBytes
                    packed[i].files.append(file)
                } else {
                    packed.append((file.fileSizeInBytes, [file]))
                }
            }
            bins += packed.map(\.files).filter { $0.count >= 2 }
        }
        return (bins, skipped)
    }

    /// Reads the files of one bin and writes their rows into new data files; returns them uploaded.
    private func rewrite(_ bin: [DataFile], spool: String) async throws -> [DataFile] {
        let metadata = table.metadata
        let spec = metadata.defaultSpec
        let layout = try ColumnLayout(schema: metadata.currentSchema)
        var options = PartitionedDataWriter.Options()
        options.targetFileSizeBytes = effectiveTargetBytes
        options.parquet.zstdLevel = zstdLevel
        let writer = PartitionedDataWriter(layout: layout, router: try PartitionRouter(spec: spec, layout: layout), options: options, spoolDirectory: spool)
        var spooled: [SpooledDataFile] = []
        do {
            for file in bin {
                let bytes = try await table.io.read(file.filePath)
                let object = SourceObject(
                    key: file.filePath, location: file.filePath, size: Int64(bytes.count), etag: "", lastModifiedMillis: 0, hour: 0, partitionPrefix: "")
                try await BlockingExecutor.run {
                    guard case .rows(let batches) = try ParquetInput.read(bytes, object: object, layout: layout, spec: spec, allowRegister: false) else {
                        throw IngestError(.badRecord, "\(file.filePath): expected rows to rewrite")
                    }
                    for batch in batches { try writer.write(batch) }
                }
            }
            spooled = try await BlockingExecutor.run { try writer.finish() }
        } catch {
            writer.discard()
            throw error
        }
        let base = metadata.properties["write.data.path"] ?? metadata.location + "/data"
        var files: [DataFile] = []
        do {
            for (index, file) in spooled.enumerated() {
                let partitionPath = spec.isUnpartitioned ? "" : spec.partitionPath(file.partition) + "/"
                let location = "\(base)/\(partitionPath)\(UUID().uuidString.lowercased())-c\(index).parquet"
                try await table.io.write(location, contentsOfFile: file.localPath)
                files.append(file.dataFile(at: location, spec: spec))
            }
        } catch {
            for file in files { try? await table.io.delete(file.filePath) }
            throw error
        }
        guard files.reduce(0, { $0 + $1.recordCount }) == bin.reduce(0, { $0 + $1.recordCount }) else {
            for file in files { try? await table.io.delete(file.filePath) }
            throw IngestError(.badRecord, "compaction of \(bin.count) files of \(table.identifier) read a different number of rows than the manifests record")
        }
        return files
    }
}
