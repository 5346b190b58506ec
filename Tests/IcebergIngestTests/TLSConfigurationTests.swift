import Foundation
import IcebergIngest
import S3Reader
import Testing
import TestSupport

/// `s3.ca_bundle` and `s3.verify_tls` against a real TLS server whose certificate is signed by a CA of the
/// test's own (made by openssl): refused without the bundle, accepted with it, and accepted unverified only
/// when the job file says `"verify_tls": false`. The same transport serves S3, Glue, REST and STS.
@Suite struct TLSConfigurationTests {
    static let server = #"""
    import http.server, ssl, sys, os
    folder = sys.argv[1]
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"hello over tls"
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        def log_message(self, *a): pass
    httpd = http.server.HTTPServer(("127.0.0.1", 0), H)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(folder, "server.pem"), os.path.join(folder, "server.key"))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    open(os.path.join(folder, "port.tmp"), "w").write(str(httpd.server_address[1])); os.replace(os.path.join(folder, "port.tmp"), os.path.join(folder, "port"))
    httpd.serve_forever()
    """#

    /// A CA, and a certificate for 127.0.0.1 signed by it.
    static func makeCertificates(in dir: URL) async throws {
        let d = dir.path
        for arguments in [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(d)/ca.key", "-out", "\(d)/ca.pem", "-days", "2", "-subj", "/CN=ingest test CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(d)/server.key", "-out", "\(d)/server.csr", "-subj", "/CN=127.0.0.1"],
        ] {
            let result = try await TestProcesses.run("/usr/bin/openssl", arguments: arguments)
            #expect(result.status == 0, "\(result.stderr)")
        }
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: "\(d)/san.ext", atomically: true, encoding: .utf8)
        let sign = try await TestProcesses.run(
            "/usr/bin/openssl",
            arguments: ["x509", "-req", "-in", "\(d)/server.csr", "-CA", "\(d)/ca.pem", "-CAkey", "\(d)/ca.key", "-CAcreateserial",
                        "-out", "\(d)/server.pem", "-days", "2", "-extfile", "\(d)/san.ext"])
        #expect(sign.status == 0, "\(sign.stderr)")
    }

    @Test func theJobFileChoosesTheCABundleAndVerification() async throws {
        let dir = try TestEnvironment.temporaryDirectory("tls")
        defer { TestEnvironment.cleanUp(dir) }
        try await Self.makeCertificates(in: dir)
        let script = dir.appendingPathComponent("server.py")
        try Self.server.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestEnvironment.python())
        process.arguments = [script.path, dir.path]
        try process.run()
        defer { TestProcesses.stop(process) }
        let port = try #require(TestProcesses.waitForPort(file: dir.appendingPathComponent("port"), of: process))
        let url = "https://127.0.0.1:\(port)/bucket/key"

        func job(_ s3: String) throws -> IngestJob {
            let path = dir.appendingPathComponent("job.json").path
            try #"{"source": {"uri": "s3://b/p/"}, "table": {"name": "a.b", "schema": "id long"}, "s3": {\#(s3)}}"#
                .write(toFile: path, atomically: true, encoding: .utf8)
            return try IngestJob(file: path, environment: [:])
        }
        func get(_ job: IngestJob) async throws -> String {
            let response = try await job.transport().send(HTTPRequest(method: "GET", url: url))
            return String(decoding: response.body, as: UTF8.self)
        }
        // The system's CAs do not know the test CA.
        await #expect(throws: (any Error).self) { _ = try await get(try job("")) }
        #expect(try await get(try job(#""ca_bundle": "\#(dir.path)/ca.pem""#)) == "hello over tls")
        #expect(try await get(try job(#""verify_tls": false"#)) == "hello over tls")
        // A bundle that does not exist is a configuration error naming the key, before anything runs.
        let error = #expect(throws: IngestError.self) { _ = try job(#""ca_bundle": "\#(dir.path)/missing.pem""#) }
        #expect(error?.description.contains("'s3.ca_bundle': cannot read") == true)
        #expect(try job(#""verify_tls": "false""#).verifyTLS == false)
        #expect(try job("").verifyTLS == true)
    }
}
