import Foundation
import IcebergIngest
import Testing
import TestSupport

/// The job file the Kubernetes example mounts (`deploy/kubernetes/job-config.yaml`) is a valid job once the
/// `.env` the workflow renders from Terraform's outputs is in the environment, and names what is missing
/// when it is not. (`scripts/check-deploy.sh` validates the manifests, the workflow, the IAM policy and the
/// image's libraries.)
@Suite struct DeployFilesTests {
    /// The `job.json: |` block of the ConfigMap, unindented.
    static func jobFile() throws -> String {
        let yaml = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("deploy/kubernetes/job-config.yaml"), encoding: .utf8)
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "job.json: |" }) else { return "" }
        return lines[(start + 1)...].prefix { $0.hasPrefix("    ") || $0.isEmpty }.map { String($0.dropFirst(4)) }.joined(separator: "\n")
    }

    @Test func theMountedJobFileIsValidWithTheRenderedEnvironment() throws {
        let dir = try TestEnvironment.temporaryDirectory("deploy-job")
        defer { TestEnvironment.cleanUp(dir) }
        let path = dir.appendingPathComponent("job.json").path
        try Self.jobFile().write(toFile: path, atomically: true, encoding: .utf8)
        let environment = [
            "SOURCE_BUCKET": "raw-events", "SOURCE_PREFIX": "clicks/", "WAREHOUSE_BUCKET": "lake", "GLUE_DATABASE": "analytics",
            "AWS_REGION": "eu-west-1",
        ]
        let job = try IngestJob(file: path, environment: environment)
        #expect(job.sourceURI == "s3://raw-events/clicks/")
        #expect(job.catalogURI == "glue:?region=eu-west-1" && job.warehouse == "s3://lake/warehouse")
        #expect(job.tableName == "analytics.clicks" && job.leaseWaitSeconds == 0)
        var missing = environment
        missing["GLUE_DATABASE"] = nil
        let error = #expect(throws: IngestError.self) { try IngestJob(file: path, environment: missing) }
        #expect(error?.description.contains("GLUE_DATABASE") == true)
    }
}
