import Foundation
import IcebergCore
import S3Reader

/// Files in a local folder laid out like an S3 source (`<root>/2026/11/24/10/part-0001.json.gz`). The
/// checkpoint keys are paths below the root; the "ETag" is made of the modification time and size, so a
/// rewritten file is noticed.
///
/// ```swift
/// let source = LocalFolderSource(root: "Fixtures/demo/events", layout: .firehose)
/// ```
public struct LocalFolderSource: IngestSource {
    public let root: String
    public let layout: PrefixLayout

    public init(root: String, layout: PrefixLayout) {
        let absolute = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        self.root = URL(fileURLWithPath: absolute).standardizedFileURL.path
        self.layout = layout
    }

    public var identity: String { "file://\(root)/|\(layout.name)" }

    public func list(firstOpenHour: Int32?, now: Date) async throws -> SourceListing {
        let root = self.root, layout = self.layout
        return try await BlockingExecutor.run {
            let folders = firstOpenHour.map { layout.prefixes(from: $0, to: PrefixLayout.hour(of: now)) } ?? [""]
            var objects: [SourceObject] = [], unmatched: [String] = []
            for folder in folders {
                let directory = folder.isEmpty ? root : root + "/" + folder
                guard let walker = FileManager.default.enumerator(atPath: directory) else { continue }
                while let relative = walker.nextObject() as? String {
                    let path = directory + "/" + relative
                    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                        attributes[.type] as? FileAttributeType == .typeRegular
                    else { continue }
                    let key = folder + relative
                    if key.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
                    guard let hour = layout.hour(ofKey: key) else {
                        unmatched.append(key)
                        continue
                    }
                    let (size, modified) = Self.sizeAndModified(attributes)
                    objects.append(SourceObject(
                        key: key, location: path, size: size, etag: Self.tag(size: size, modified: modified), lastModifiedMillis: modified,
                        hour: hour, partitionPrefix: layout.prefix(forHour: hour)))
                }
            }
            objects.sort { $0.hour == $1.hour ? $0.key < $1.key : $0.hour < $1.hour }
            return SourceListing(objects: objects, listedPrefixes: folders.map { root + "/" + $0 }, unmatchedKeys: unmatched.sorted())
        }
    }

    /// `range` of the file as it was listed: after each read the file's tag (modification time and size) is
    /// compared with the listed one, so a file rewritten or replaced after it was listed (or between two
    /// ranges) is never read as a mix of versions; that throws a retryable ``IngestError`` `.inputChanged`
    /// naming it, and the next run reads the new version. A file deleted since it was listed throws the
    /// same, saying it is gone (a run's next listing no longer has it).
    public func read(_ object: SourceObject, range: Range<Int64>) async throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try await LocalFileIO().read(object.location, range: range)
        } catch let error as IcebergError where error.code == .notFound {
            throw IngestError(
                .inputChanged,
                "\(object.location): gone since it was listed, read at byte \(range.lowerBound); nothing of its batch is committed",
                cause: error, isRetryable: true)
        }
        let tag: String? = try await BlockingExecutor.run {
            (try? FileManager.default.attributesOfItem(atPath: object.location)).map(Self.sizeAndModified).map { Self.tag(size: $0.size, modified: $0.modified) }
        }
        guard tag == object.etag else {
            throw IngestError(
                .inputChanged,
                "\(object.location): \(tag == nil ? "gone" : "rewritten") since it was listed (modification time and size \(tag ?? "none"), listed \(object.etag)), read at byte \(range.lowerBound); \(tag == nil ? "nothing of its batch is committed" : "the next run reads it again")",
                isRetryable: true)
        }
        return bytes
    }

    /// A file's size and modification time in milliseconds, from its attributes.
    static func sizeAndModified(_ attributes: [FileAttributeKey: Any]) -> (size: Int64, modified: Int64) {
        ((attributes[.size] as? NSNumber)?.int64Value ?? 0, Int64(((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) * 1000))
    }

    /// The "ETag" of a local file: its modification time (milliseconds) and size.
    static func tag(size: Int64, modified: Int64) -> String { "\(modified)-\(size)" }
}
