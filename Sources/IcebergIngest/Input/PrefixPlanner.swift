import Foundation
import S3Reader

/// Finds the objects a run must consider: it lists only the partitions that can hold new objects (from the
/// first open hour, i.e. the watermark minus the late-arrival window, up to now), several at once, and
/// returns them in time order. Before any watermark it lists the whole root once.
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
        let lists = try await withThrowingTaskGroup(of: (Int, [S3Object]).self) { group in
            var results = [[S3Object]](repeating: [], count: prefixes.count)
            var next = 0
            func start(_ index: Int) {
                group.addTask {
                    var objects: [S3Object] = []
                    for try await page in client.listAllPages(bucket: bucket, prefix: prefixes[index]) { objects += page.objects }
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
        var planned: [PlannedObject] = [], unmatched: [String] = []
        for object in lists.joined() {
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
