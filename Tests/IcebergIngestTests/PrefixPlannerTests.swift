import Foundation
import Testing
import TestSupport

@testable import IcebergIngest
@testable import S3Reader

@Suite struct PrefixPlannerTests {
    static let hour: Int32 = 494_458  // 2026-05-29T10:00Z

    @Test func layoutsNameAndParseTheirPartitions() throws {
        #expect(PrefixLayout.firehose.prefix(forHour: Self.hour) == "2026/05/29/10/")
        #expect(PrefixLayout.hive.prefix(forHour: Self.hour) == "year=2026/month=05/day=29/hour=10/")
        #expect(PrefixLayout.daily.prefix(forHour: Self.hour) == "dt=2026-05-29/")
        let custom = try PrefixLayout(pattern: "logs/{yyyy}{MM}{dd}/{HH}{mm}/")
        #expect(custom.prefix(forHour: Self.hour) == "logs/20260529/10")
        #expect(custom.hour(ofKey: "logs/20260529/1045/a.gz") == Self.hour)
        #expect(PrefixLayout.firehose.hour(ofKey: "2026/05/29/10/stream-1-2026-05-29-10-00-00-abc.gz") == Self.hour)
        #expect(PrefixLayout.hive.hour(ofKey: "year=2026/month=05/day=29/hour=10/part-0.json") == Self.hour)
        #expect(PrefixLayout.daily.hour(ofKey: "dt=2026-05-29/x.csv") == Self.hour - 10)
        #expect(PrefixLayout.firehose.hour(ofKey: "2024/02/29/23/leap.gz") == PrefixLayout.hour(of: Date(timeIntervalSince1970: 1_709_247_600)))
        #expect(PrefixLayout.firehose.hour(ofKey: "manifest.json") == nil)
        #expect(PrefixLayout.firehose.hour(ofKey: "2026/13/01/00/x") == nil)
        #expect(throws: IngestError.self) { try PrefixLayout(pattern: "{MM}/{dd}/") }
        #expect(throws: IngestError.self) { try PrefixLayout(pattern: "{yyyy}/{HH}/") }
        #expect(throws: IngestError.self) { try PrefixLayout(pattern: "{yyyy}/{ss}/") }
        let planner = PrefixPlanner(client: S3Client(configuration: S3Configuration(region: "us-east-1"), credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "a", secretAccessKey: "b"))), bucket: "b", root: "raw/", layout: .daily)
        #expect(planner.candidatePrefixes(from: Self.hour - 30, to: Self.hour) == ["raw/dt=2026-05-28/", "raw/dt=2026-05-29/"])
    }

    /// 30 days of hourly partitions; an incremental plan lists one page per candidate hour and nothing older.
    @Test func incrementalPlanListsOnlyCandidatePrefixes() async throws {
        let s3 = try TestEnvironment.s3()
        let counting = CountingTransport()
        let client = s3.client(transport: counting)
        let bucket = TestEnvironment.uniqueBucketName("planner")
        try await client.createBucket(bucket)
        let last = Self.hour + 719  // 30 days of hours: Self.hour ... last
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = 0
            for h in Self.hour...last {
                if pending >= 32 { try await group.next(); pending -= 1 }
                group.addTask {
                    try await client.putObject(bucket: bucket, key: "raw/" + PrefixLayout.firehose.prefix(forHour: h) + "part-\(h).gz", body: [1])
                }
                pending += 1
            }
            try await group.waitForAll()
        }
        try await client.putObject(bucket: bucket, key: "raw/README.txt", body: [1])  // not in the layout
        let planner = PrefixPlanner(client: client, bucket: bucket, root: "raw/", layout: .firehose)
        let now = Date(timeIntervalSince1970: TimeInterval(Int(last) * 3600 + 1_800))

        counting.reset()
        let incremental = try await planner.plan(firstOpenHour: last - 5, now: now)
        #expect(incremental.prefixes.count == 6)
        #expect(counting.listRequests.count == 6, "one list request per candidate hour: \(counting.listRequests)")
        #expect(incremental.objects.map(\.hour) == Array((last - 5)...last))
        #expect(incremental.objects.map(\.object.key) == ((last - 5)...last).map { "raw/" + PrefixLayout.firehose.prefix(forHour: $0) + "part-\($0).gz" })
        // No list request touched an older hour.
        let olderPrefix = S3URIEncoding.queryComponent("raw/" + PrefixLayout.firehose.prefix(forHour: last - 6))
        #expect(!counting.listRequests.contains { $0.contains(olderPrefix) })

        // A late file in an hour inside the window is found by the next plan.
        try await client.putObject(bucket: bucket, key: "raw/" + PrefixLayout.firehose.prefix(forHour: last - 3) + "late.gz", body: [2])
        let again = try await planner.plan(firstOpenHour: last - 5, now: now)
        #expect(again.objects.count == 7)
        #expect(again.objects.contains { $0.object.key.hasSuffix("late.gz") && $0.hour == last - 3 })

        // Without a watermark the whole root is listed once (1,000 keys a page), unmatched keys reported.
        counting.reset()
        let full = try await planner.plan(firstOpenHour: nil, now: now)
        #expect(full.objects.count == 721)
        #expect(full.unmatchedKeys == ["raw/README.txt"])
        #expect(counting.listRequests.count == 1)
        #expect(full.objects.first?.hour == Self.hour)

        // A window of 300 hours (a first run with --start-at, a backfill, a job stopped for days) is listed
        // flat: from the first open prefix, a page at a time (50 keys here), stopping at the first key past
        // the window; the same objects as 300 per-hour listings.
        var paged = planner
        paged.maxKeys = 50
        let end = Date(timeIntervalSince1970: TimeInterval(Int(Self.hour + 399) * 3600 + 1_800))
        counting.reset()
        let flat = try await paged.plan(firstOpenHour: Self.hour + 100, now: end)
        #expect(counting.listRequests.count == 7, "6 pages of the window and the one that passes its end: \(counting.listRequests.count)")
        #expect(counting.listRequests.allSatisfy { !$0.contains("prefix=raw%2F20") }, "flat: the root's prefix only")
        var each = paged
        each.flatListingThreshold = .max
        counting.reset()
        let perHour = try await each.plan(firstOpenHour: Self.hour + 100, now: end)
        #expect(counting.listRequests.count == 300)
        #expect(flat.objects == perHour.objects && flat.objects.count == 300 && flat.prefixes == perHour.prefixes)
        #expect(flat.objects.first?.hour == Self.hour + 100 && flat.objects.last?.hour == Self.hour + 399 && flat.unmatchedKeys.isEmpty)
    }
}
