import ArgumentParser
import Foundation
import IcebergIngest
import S3Reader

/// `iceberg-bench s3-listing`: discovery of N objects over 720 hourly prefixes on an S3 endpoint (the
/// local test bed: `scripts/s3-testbed.sh -- .build/release/iceberg-bench s3-listing`). Our planner, both
/// incremental (the last hours) and over all 720 hours (flat, as it chooses, and forced per hour), against a
/// plain paginated listing with boto3 in the same run: median times, request counts and ratios.
struct S3ListingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3-listing", abstract: "List 100,000 objects over 720 hourly prefixes, against boto3 in the same run.")

    @Option(help: "Objects to upload (spread over 720 hours).") var objects = 100_000
    @Option(help: "Hours in the late-arrival window of the incremental plan.") var windowHours: Int32 = 6
    @Option(help: "Python with boto3 for the peer.") var python = ".venv/bin/python"
    @Option(help: "Repetitions of each full listing; medians are reported.") var repetitions = 3

    final class Counter: HTTPTransport, @unchecked Sendable {
        // Safe: `count` is only touched under the lock.
        let lock = NSLock()
        var count = 0
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            lock.withLock { count += 1 }
            return try await CurlTransport.shared.send(request)
        }
        func take() -> Int { lock.withLock { defer { count = 0 }; return count } }
    }

    func run() async throws {
        let s3 = try BenchmarkS3(command: "s3-listing")
        let (endpoint, region, credentials) = (s3.endpoint, s3.region, s3.credentials)
        let counter = Counter()
        let client = s3.client(transport: counter)
        let bucket = "bench-listing-\(UUID().uuidString.prefix(8).lowercased())"
        try await client.createBucket(bucket)
        let first: Int32 = 494_458, hours: Int32 = 720
        let uploadStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = 0
            for i in 0..<objects {
                if pending >= 64 { try await group.next(); pending -= 1 }
                let hour = first + Int32(i % Int(hours))
                group.addTask {
                    try await client.putObject(bucket: bucket, key: "raw/" + PrefixLayout.firehose.prefix(forHour: hour) + "part-\(i).gz", body: [UInt8(i & 0xff)])
                }
                pending += 1
            }
            try await group.waitForAll()
        }
        print(String(format: "s3-listing: %d objects over %d hourly prefixes uploaded in %.1f s to %@", objects, hours, uploadStart.seconds, endpoint))
        _ = counter.take()
        let planner = PrefixPlanner(client: client, bucket: bucket, root: "raw/", layout: .firehose)
        let now = Date(timeIntervalSince1970: TimeInterval(Int(first + hours - 1) * 3600 + 60))
        var start = ContinuousClock.now
        let incremental = try await planner.plan(firstOpenHour: first + hours - windowHours, now: now)
        let incrementalTime = start.seconds, incrementalRequests = counter.take()
        // The whole range, listed flat (the planner's choice for long windows), by boto3's paginator, and one
        // prefix per hour (the planner's choice for short windows, forced here), `repetitions` times each, in
        // turn: each of our flat listings is followed by boto3's, so the two see the host in the same state.
        var perHour = planner
        perHour.flatListingThreshold = .max
        var flatTimes: [Double] = [], perHourTimes: [Double] = [], peerTimes: [Double] = []
        var flatRequests = 0, perHourRequests = 0, peerObjects = 0, peerRequests = 0
        for _ in 0..<repetitions {
            start = ContinuousClock.now
            let all = try await planner.plan(firstOpenHour: first, now: now)
            flatTimes.append(start.seconds)
            flatRequests = counter.take()
            guard all.objects.count == objects else { throw ValidationError("the flat listing found \(all.objects.count) of \(objects) objects") }
            let peer = try PythonPeer.run(
                python, code: Self.peerCode, arguments: [endpoint, region, bucket, credentials.accessKeyID, credentials.secretAccessKey, "1"])
            let fields = peer.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").compactMap { Double($0) }
            guard fields.count == 3 else { throw ValidationError("boto3 peer printed: \(peer)") }
            (peerObjects, peerRequests) = (Int(fields[0]), Int(fields[1]))
            peerTimes.append(fields[2])
            start = ContinuousClock.now
            let each = try await perHour.plan(firstOpenHour: first, now: now)
            perHourTimes.append(start.seconds)
            perHourRequests = counter.take()
            guard each.objects == all.objects else { throw ValidationError("the per-hour listing found other objects than the flat one") }
        }
        let flat = flatTimes.median, each = perHourTimes.median, peerTime = peerTimes.median
        print(String(format: "  ours, incremental (last %d hours): %d objects, %d list requests, %.3f s", windowHours, incremental.objects.count, incrementalRequests, incrementalTime))
        print(String(format: "  ours, all %d hours, flat (the planner's choice): %d list requests, median %.3f s", hours, flatRequests, flat))
        print(String(format: "  ours, all %d hours, one prefix per hour, 16 at once: %d list requests, median %.3f s", hours, perHourRequests, each))
        print(String(format: "  boto3 paginator over the root: %d objects, %d list requests, median %.3f s", peerObjects, peerRequests, peerTime))
        print(String(format: "  flat vs boto3: %.2fx the time, %.2fx the requests; per-hour vs boto3: %.2fx the time, %.2fx the requests (medians of %d)",
            flat / peerTime, Double(flatRequests) / Double(peerRequests), each / peerTime, Double(perHourRequests) / Double(peerRequests), repetitions))
        let paired = zip(flatTimes, peerTimes).map { $0 / $1 }
        print("  flat vs boto3, each listing over the one after it: " + paired.map { String(format: "%.2fx", $0) }.joined(separator: ", "))
    }

    static let peerCode = #"""
    import sys, time, boto3
    endpoint, region, bucket, key, secret = sys.argv[1:6]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=key, aws_secret_access_key=secret)
    times = []
    for _ in range(int(sys.argv[6])):
        t = time.perf_counter(); n = 0; pages = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="raw/"):
            pages += 1; n += len(page.get("Contents", []))
        times.append(time.perf_counter() - t)
    print("%d %d %.4f" % (n, pages, sorted(times)[len(times) // 2]))
    """#
}
