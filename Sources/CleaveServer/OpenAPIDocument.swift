/// The API description served at `/api/openapi.json` (OpenAPI 3.1). Tests check that every route
/// the router has is listed here, so the document cannot silently fall behind.
public enum OpenAPIDocument {
    /// Every documented (method, path) pair, in the document's path syntax.
    public static let operations: [(method: String, path: String)] = [
        ("get", "/api/openapi.json"),
        ("get", "/api/projects"), ("post", "/api/projects"), ("get", "/api/projects/{projectId}"),
        ("get", "/api/projects/{projectId}/images"), ("post", "/api/projects/{projectId}/images"),
        ("get", "/api/images/{imageId}"), ("get", "/api/images/{imageId}/window"),
        ("get", "/api/images/{imageId}/tiles/{level}/{x}/{y}.png"),
        ("get", "/api/images/{imageId}/strokes"), ("post", "/api/images/{imageId}/strokes"),
        ("post", "/api/images/{imageId}/strokes/undo"), ("post", "/api/images/{imageId}/strokes/redo"),
        ("get", "/api/events"), ("post", "/api/events"), ("delete", "/api/events"),
    ]

    public static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "Cleave workbench API",
        "version": "1",
        "description": "Projects, images (content-addressed, validated on upload), a 256x256 PNG tile pyramid, brush strokes with undo/redo, and an append-only interaction event log. Errors are {\"error\": \"one line\"} with a 4xx/5xx status. Calls that record or read events or strokes identify the pseudonymous user with the X-Cleave-User header (8-64 characters of letters, digits, '-', '_')."
      },
      "paths": {
        "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI JSON"}}}},
        "/api/projects": {
          "get": {"summary": "List projects", "responses": {"200": {"description": "{projects: [Project]}", "content": {"application/json": {"schema": {"type": "object", "properties": {"projects": {"type": "array", "items": {"$ref": "#/components/schemas/Project"}}}}}}}}},
          "post": {"summary": "Create a project",
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200}}}}}},
                   "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Project"}}}}, "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/projects/{projectId}": {
          "get": {"summary": "One project", "parameters": [{"$ref": "#/components/parameters/projectId"}],
                  "responses": {"200": {"description": "Project", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Project"}}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/projects/{projectId}/images": {
          "get": {"summary": "List a project's images", "parameters": [{"$ref": "#/components/parameters/projectId"}],
                  "responses": {"200": {"description": "{images: [Image]}", "content": {"application/json": {"schema": {"type": "object", "properties": {"images": {"type": "array", "items": {"$ref": "#/components/schemas/Image"}}}}}}}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"summary": "Upload an image (TIFF, PNG or MRC; detected from the content). The body is the raw file; it is streamed to disk, decoded completely to validate it, and stored under its SHA-256. Rejected uploads leave nothing behind.",
                   "parameters": [{"$ref": "#/components/parameters/projectId"}, {"name": "name", "in": "query", "schema": {"type": "string"}, "description": "Display name; path components are stripped."}],
                   "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                   "responses": {"201": {"description": "Stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Image"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}": {
          "get": {"summary": "Image information", "parameters": [{"$ref": "#/components/parameters/imageId"}],
                  "responses": {"200": {"description": "Image", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Image"}}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/window": {
          "get": {"summary": "Default contrast window (8-bit: 0-255; 16-bit and float: 0.5-99.5 percentiles of plane 0)", "parameters": [{"$ref": "#/components/parameters/imageId"}],
                  "responses": {"200": {"description": "Window", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Window"}}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/tiles/{level}/{x}/{y}.png": {
          "get": {"summary": "One 8-bit grey PNG tile (256x256, smaller at the right and bottom edges). Level 0 is full resolution, level L is downsampled by 2^L. Tiles are cached on disk per window.",
                  "parameters": [{"$ref": "#/components/parameters/imageId"},
                                 {"name": "level", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}},
                                 {"name": "x", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}},
                                 {"name": "y", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}},
                                 {"name": "low", "in": "query", "schema": {"type": "number"}, "description": "Window low value (with high)"},
                                 {"name": "high", "in": "query", "schema": {"type": "number"}, "description": "Window high value (with low)"}],
                  "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/strokes": {
          "get": {"summary": "Active strokes in drawing order (include=undone for all)", "parameters": [{"$ref": "#/components/parameters/imageId"}, {"name": "include", "in": "query", "schema": {"enum": ["undone"]}}],
                  "responses": {"200": {"description": "{strokes: [Stroke]}"}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"summary": "Store a brush stroke (and a 'stroke' event) before answering", "parameters": [{"$ref": "#/components/parameters/imageId"}, {"$ref": "#/components/parameters/user"}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StrokeInput"}}}},
                   "responses": {"201": {"description": "Stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stroke"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/strokes/undo": {
          "post": {"summary": "Undo the user's latest active stroke ('undo' event); stroke is null when there is nothing to undo", "parameters": [{"$ref": "#/components/parameters/imageId"}, {"$ref": "#/components/parameters/user"}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}},
                   "responses": {"200": {"description": "{stroke: Stroke | null}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/strokes/redo": {
          "post": {"summary": "Redo the most recently undone stroke ('redo' event); a new stroke clears the redo stack", "parameters": [{"$ref": "#/components/parameters/imageId"}, {"$ref": "#/components/parameters/user"}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}},
                   "responses": {"200": {"description": "{stroke: Stroke | null}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/events": {
          "get": {"summary": "The caller's own events, oldest first", "parameters": [{"$ref": "#/components/parameters/user"}, {"name": "imageId", "in": "query", "schema": {"type": "string"}}],
                  "responses": {"200": {"description": "{events: [Event]}"}, "400": {"$ref": "#/components/responses/Error"}}},
          "post": {"summary": "Append a batch of up to 1000 events (one transaction)", "parameters": [{"$ref": "#/components/parameters/user"}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["events"], "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/EventInput"}}}}}}},
                   "responses": {"201": {"description": "{events: [Event]}"}, "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}},
          "delete": {"summary": "Delete all of the caller's own events", "parameters": [{"$ref": "#/components/parameters/user"}],
                     "responses": {"200": {"description": "{deleted: count}"}, "400": {"$ref": "#/components/responses/Error"}}}
        }
      },
      "components": {
        "parameters": {
          "projectId": {"name": "projectId", "in": "path", "required": true, "schema": {"type": "string"}},
          "imageId": {"name": "imageId", "in": "path", "required": true, "schema": {"type": "string"}},
          "user": {"name": "X-Cleave-User", "in": "header", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"}, "description": "Pseudonymous user id (random, kept by the browser)"}
        },
        "responses": {
          "Error": {"description": "One-line error", "content": {"application/json": {"schema": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}}}}
        },
        "schemas": {
          "Project": {"type": "object", "required": ["id", "name", "createdAt"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "createdAt": {"type": "string", "format": "date-time"}}},
          "Image": {"type": "object", "properties": {"id": {"type": "string"}, "projectId": {"type": "string"}, "name": {"type": "string"}, "sha256": {"type": "string"}, "byteCount": {"type": "integer"}, "format": {"enum": ["tiff", "png", "mrc"]}, "width": {"type": "integer"}, "height": {"type": "integer"}, "depth": {"type": "integer"}, "channels": {"type": "integer"}, "pixelType": {"enum": ["uint8", "uint16", "float32"]}, "spacing": {"type": ["object", "null"], "properties": {"x": {"type": "number"}, "y": {"type": "number"}, "unit": {"type": "string"}}}, "tileSize": {"type": "integer"}, "levelCount": {"type": "integer"}, "createdAt": {"type": "string"}}},
          "Window": {"type": "object", "properties": {"low": {"type": "number"}, "high": {"type": "number"}, "method": {"type": "string"}}},
          "Session": {"type": "object", "required": ["sessionId"], "properties": {"sessionId": {"type": "string"}}},
          "StrokeInput": {"type": "object", "required": ["sessionId", "class", "radius", "points"], "properties": {"sessionId": {"type": "string"}, "class": {"type": "integer", "minimum": 1, "maximum": 255}, "radius": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000}, "points": {"type": "array", "minItems": 1, "maxItems": 20000, "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}}}},
          "Stroke": {"type": "object", "properties": {"id": {"type": "integer"}, "imageId": {"type": "string"}, "class": {"type": "integer"}, "radius": {"type": "number"}, "points": {"type": "array"}, "state": {"enum": ["active", "undone", "discarded"]}, "createdAt": {"type": "string"}}},
          "EventInput": {"type": "object", "required": ["type", "sessionId"], "properties": {"type": {"type": "string", "pattern": "^[a-z0-9._-]{1,64}$"}, "sessionId": {"type": "string"}, "projectId": {"type": "string"}, "imageId": {"type": "string"}, "clientTime": {"type": "string"}, "payload": {}}},
          "Event": {"type": "object", "properties": {"id": {"type": "integer"}, "userId": {"type": "string"}, "sessionId": {"type": "string"}, "projectId": {"type": ["string", "null"]}, "imageId": {"type": ["string", "null"]}, "appVersion": {"type": "string"}, "clientTime": {"type": ["string", "null"]}, "serverTime": {"type": "string"}, "type": {"type": "string"}, "payload": {}}}
        }
      }
    }
    """#
}
