import Foundation

/// Where the tests find the repository, the fixtures, the Python tools and the S3 endpoint.
///
/// Tests that need the local S3 server or the Python tools call ``s3()`` or ``python()``: when the
/// tool is missing these throw ``TestEnvironmentError`` with a message saying how to get it, so the test
/// fails (it never skips). `scripts/test.sh` sets everything up.
public enum TestEnvironment {
    /// The repository root (the folder holding Package.swift).
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// `Fixtures/` in the repository.
    public static var fixtures: URL { repositoryRoot.appendingPathComponent("Fixtures") }

    /// True under CI (`CI` is set), where every tool must be present.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// The Python interpreter of the test virtual environment: `ICEBERG_TEST_PYTHON`, else `.venv/bin/python`.
    public static func python() throws -> String {
        let env = ProcessInfo.processInfo.environment
        let candidate = env["ICEBERG_TEST_PYTHON"] ?? repositoryRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw TestEnvironmentError(
                "Python test tools missing: no interpreter at \(candidate). Run scripts/bootstrap.sh (or scripts/test.sh).")
        }
        return candidate
    }

    /// The S3 endpoint the suite runs against: the local moto server started by `scripts/test.sh`,
    /// or MinIO/AWS given by `S3_ENDPOINT` and the usual `AWS_*` variables.
    public static func s3() throws -> S3TestEndpoint {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["S3_ENDPOINT"], !endpoint.isEmpty else {
            throw TestEnvironmentError(
                "S3_ENDPOINT is not set: run the suite with scripts/test.sh, which starts the local S3 server, "
                    + "or set S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION for MinIO or AWS.")
        }
        return S3TestEndpoint(
            endpoint: endpoint,
            accessKeyID: env["AWS_ACCESS_KEY_ID"] ?? "testing",
            secretAccessKey: env["AWS_SECRET_ACCESS_KEY"] ?? "testing",
            sessionToken: env["AWS_SESSION_TOKEN"],
            region: env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1",
            isLocalMoto: env["S3_TESTBED"] == "moto")
    }

    /// The path of one of the package's executables, built beside the test runner (`swift build
    /// --build-tests` builds them all).
    public static func executable(_ name: String) throws -> String {
        let runnerDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [runnerDirectory.appendingPathComponent(name).path]
        // The runner may sit inside an .xctest bundle.
        candidates.append(runnerDirectory.deletingLastPathComponent().appendingPathComponent(name).path)
        for configuration in ["release", "debug"] {
            candidates.append(repositoryRoot.appendingPathComponent(".build/\(configuration)/\(name)").path)
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestEnvironmentError("executable \(name) not found (looked in \(candidates)): build with swift build --build-tests")
        }
        return found
    }

    /// Waits past the turn of the hour when it is less than `seconds` away (see ``WithinOneHour``, the trait
    /// that does this before each test of a suite). Returns the seconds waited.
    @discardableResult
    public static func awayFromHourTurn(_ seconds: Double = 180) async throws -> Double {
        let wait = WithinOneHour.wait(now: Date().timeIntervalSince1970, seconds: seconds)
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
        return wait
    }

    /// A fresh empty directory under the system temporary folder.
    public static func temporaryDirectory(_ label: String = "test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("iceberg-ingest-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Removes a test's temporary directory, unless `ICEBERG_KEEP_TEST_DIRS` is set (then it says where it is).
    public static func cleanUp(_ url: URL) {
        if ProcessInfo.processInfo.environment["ICEBERG_KEEP_TEST_DIRS"] != nil {
            FileHandle.standardError.write(Data("kept test directory \(url.path)\n".utf8))
            return
        }
        try? FileManager.default.removeItem(at: url)
    }

    /// A bucket name unique to this call, for tests that create their own bucket.
    public static func uniqueBucketName(_ label: String) -> String {
        let clean = label.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" }
        return "ii-\(clean.prefix(30))-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

/// The S3 endpoint and credentials the suite uses.
public struct S3TestEndpoint: Sendable {
    public var endpoint: String
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var region: String
    /// True when the endpoint is the moto server started by scripts/test.sh.
    public var isLocalMoto: Bool
}

/// A missing test tool or a failed helper process; the message says what to do.
public struct TestEnvironmentError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
