import Foundation
import S3Reader

/// Finds the objects a run must consider: it lists only the partitions that can hold new objects (from the
/// first open hour, i.e. the watermark minus the late-arrival window, up to now) and returns them in time
/// order. Before any watermark it lists the whole root once.
///
/// How it lists depends on how many partitions are open. A few (at most ``flatListingThreshold``, the steady
/// state of an incremental run) are listed one prefix each, several at once: the newest hour's objects are
/// not waiting behind older hours' pages. Many (a first run with `--start-at`, a backfill, a reconciliation
/// of closed hours, a job that was stopped for days) are listed flat: one listing of the root that starts
/// after the first open prefix (`start-after`) and stops at the last one, so each request returns up to
/// 1,000 keys instead of one request per hour (S3 charges per LIST request); that is the same requests a plain
/// paginated listing of the range makes. Flat listing needs prefixes that sort in time order, which every
/// built-in layout has (zero-padded, most significant first); a pattern that does not is listed per prefix.
///
/// ```swift
/// let planner = PrefixPlanner(client: s3, bucket: "raw", root: "events/", layout: .firehose)
/// let plan = try await planner.plan(firstOpenHour: checkpoint.firstOpenHour, now: Date())
/// for object in plan.objects { ... }   // (key, size, etag, hour), oldest hour first
/// ```
public struct PrefixPlanner: Sendable {
    public let client: S3Client
    public let bucket: String
    /// The prefix the layout starts under (`events/`), empty for the bucket's root.
    public let root: String
    public let layout: PrefixLayout
    /// Partitions listed at the same time.
    public var concurrency: Int = 16
    /// Above this many open partitions, one flat listing replaces the per-partition listings.
    public var flatListingThreshold: Int = 24
    /// Keys asked for per LIST request (`max-keys`); nil: the server's page size (1,000 on S3).
    public var maxKeys: Int?

    public init(client: S3Client, bucket: String, root: String, layout: PrefixLayout) {
        self.client = client
        self.bucket = bucket
        self.root = root
        self.layout = layout
    }

    /// An object found by the plan, with the hour its prefix names.
    public struct PlannedObject: Sendable, Equatable {
        public var object: S3Object
        public var hour: Int32
    }

    public struct Plan: Sendable {
        /// Objects in time order (by hour, then key).
        public var objects: [PlannedObject]
        /// The prefixes listed.
        public var prefixes: [String]
        /// Keys under the root that do not follow the layout (reported, never ingested silently).
        public var unmatchedKeys: [String]
    }

    /// The partition prefixes (full keys) covering `firstOpenHour ... lastHour`, oldest first.
    public func candidatePrefixes(from firstOpenHour: Int32, to lastHour: Int32) -> [String] {
        layout.prefixes(from: firstOpenHour, to: lastHour).map { root + $0 }
    }

    /// Lists what may be new. `firstOpenHour` nil means no watermark yet: the whole root is listed.
    public func plan(firstOpenHour: Int32?, now: Date) async throws -> Plan {
        let prefixes = firstOpenHour.map { candidatePrefixes(from: $0, to: PrefixLayout.hour(of: now)) } ?? [root]
        if prefixes.count > flatListingThreshold, zip(prefixes, prefixes.dropFirst()).allSatisfy({ Self.sortsBefore($0, $1) && !$1.hasPrefix($0) }) {
            return try await plan(prefixes: prefixes, objects: listFlat(from: prefixes[0], through: prefixes[prefixes.count - 1]))
        }
        return try await plan(prefixes: prefixes, objects: listEach(prefixes).joined())
    }

    /// Every key from `first` (a prefix) to the last key under `last`, in one paginated listing of the root.
    func listFlat(from first: String, through last: String) async throws -> [S3Object] {
        // Keys under `first` sort after `first` without its final character (the `/` that ends it).
        var token: String?
        var objects: [S3Object] = []
        repeat {
            let page = try await client.listObjectsV2(
                bucket: bucket, prefix: root.isEmpty ? nil : root, startAfter: token == nil ? String(first.dropLast()) : nil, continuationToken: token,
                maxKeys: maxKeys)
            for object in page.objects {
                if Self.sortsBefore(last, object.key), !object.key.hasPrefix(last) { return objects }  // past the window
                objects.append(object)
            }
            token = page.nextContinuationToken
        } while token != nil
        return objects
    }

    /// S3's key order: UTF-8 bytes (Swift's `<` on strings compares normalized characters).
    static func sortsBefore(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// Each prefix listed on its own, `concurrency` at a time; the lists in the prefixes' order.
    func listEach(_ prefixes: [String]) async throws -> [[S3Object]] {
        try await withThrowingTaskGroup(of: (Int, [S3Object]).self) { group in
            var results = [[S3Object]](repeating: [], count: prefixes.count)
            var next = 0
            func start(_ index: Int) {
                group.addTask {
                    var objects: [S3Object] = []
                    for try await page in client.listAllPages(bucket: bucket, prefix: prefixes[index], maxKeys: maxKeys) { objects += page.objects }
                    return (index, objects)
                }
            }
            while next < min(concurrency, prefixes.count) { start(next); next += 1 }
            for try await (index, objects) in group {
                results[index] = objects
                if next < prefixes.count { start(next); next += 1 }
            }
            return results
        }
    }

    /// The objects listed, matched to their hours and sorted.
    private func plan(prefixes: [String], objects: some Sequence<S3Object>) -> Plan {
        var planned: [PlannedObject] = [], unmatched: [String] = []
        for object in objects {
            guard object.key.hasPrefix(root), let hour = layout.hour(ofKey: String(object.key.dropFirst(root.count))) else {
                unmatched.append(object.key)
                continue
            }
            planned.append(PlannedObject(object: object, hour: hour))
        }
        planned.sort { $0.hour == $1.hour ? $0.object.key < $1.object.key : $0.hour < $1.hour }
        return Plan(objects: planned, prefixes: prefixes, unmatchedKeys: unmatched)
    }
}
