import NIOCore

/// The OpenAPI document served at /openapi.yaml (generated from api/openapi.yaml by
/// scripts/embed-openapi; a test checks that the two are identical).
enum OpenAPIDocument {
    static let buffer = ByteBuffer(string: yaml)
    static let yaml = #####"""
openapi: 3.1.0
"""#####
}
