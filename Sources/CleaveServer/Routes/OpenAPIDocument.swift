/// The API description served at `/api/openapi.json` (OpenAPI 3.1). Tests check that every route
/// the router has is listed here, so the document cannot silently fall behind.
public enum OpenAPIDocument {
    /// Every documented (method, path) pair, in the document's path syntax.
    public static let operations: [(method: String, path: String)] = [
        ("get", "/api/openapi.json"),
        ("get", "/api/projects"), ("post", "/api/projects"), ("post", "/api/projects/import"), ("get", "/api/projects/{projectId}"),
        ("put", "/api/projects/{projectId}"), ("delete", "/api/projects/{projectId}"), ("get", "/api/projects/{projectId}/deletion"),
        ("put", "/api/images/{imageId}"), ("delete", "/api/images/{imageId}"), ("get", "/api/images/{imageId}/deletion"),
        ("get", "/api/projects/{projectId}/images"), ("post", "/api/projects/{projectId}/images"),
        ("get", "/api/images/{imageId}"), ("get", "/api/images/{imageId}/window"),
        ("get", "/api/images/{imageId}/tiles/{level}/{x}/{y}.png"),
        ("get", "/api/images/{imageId}/orthogonal/{axis}.png"),
        ("get", "/api/images/{imageId}/strokes"), ("post", "/api/images/{imageId}/strokes"),
        ("post", "/api/images/{imageId}/strokes/undo"), ("post", "/api/images/{imageId}/strokes/redo"),
        ("get", "/api/images/{imageId}/roi"), ("put", "/api/images/{imageId}/roi"),
        ("get", "/api/events"), ("post", "/api/events"), ("delete", "/api/events"),
        ("put", "/api/projects/{projectId}/consent"),
        ("get", "/api/projects/{projectId}/classes"),
        ("post", "/api/projects/{projectId}/classes"),
        ("put", "/api/classes/{classId}"),
        ("delete", "/api/classes/{classId}"),
        ("get", "/api/jobs"),
        ("get", "/api/jobs/{jobId}"),
        ("post", "/api/jobs/{jobId}/cancel"),
        ("get", "/api/jobs/{jobId}/events"),
        ("post", "/api/images/{imageId}/cluster"),
        ("get", "/api/images/{imageId}/clusterings"),
        ("get", "/api/clusterings/{clusteringId}"),
        ("get", "/api/clusterings/{clusteringId}/overlay.png"),
        ("get", "/api/clusterings/{clusteringId}/at"),
        ("post", "/api/clusterings/{clusteringId}/pick"),
        ("get", "/api/clusterings/{clusteringId}/model.json"),
        ("post", "/api/clusterings/{clusteringId}/merge"),
        ("post", "/api/clusterings/{clusteringId}/accept"),
        ("post", "/api/clusterings/{clusteringId}/reject"),
        ("post", "/api/images/{imageId}/train"),
        ("get", "/api/projects/{projectId}/models"),
        ("get", "/api/projects/{projectId}/fractions.csv"),
        ("put", "/api/images/{imageId}/pixel-size"),
        ("get", "/api/models/{modelId}"),
        ("get", "/api/models/{modelId}/model.json"), ("get", "/api/models/{modelId}/model.onnx"),
        ("post", "/api/images/{imageId}/predict"),
        ("get", "/api/images/{imageId}/predictions"),
        ("get", "/api/predictions/{predictionId}"),
        ("get", "/api/predictions/{predictionId}/labels.png"),
        ("get", "/api/predictions/{predictionId}/uncertainty.png"),
        ("get", "/api/predictions/{predictionId}/labels.tif"),
        ("get", "/api/predictions/{predictionId}/probabilities.tif"),
        ("get", "/api/predictions/{predictionId}/overlay.png"),
        ("get", "/api/predictions/{predictionId}/fractions.json"),
        ("post", "/api/predictions/{predictionId}/accept"),
        ("post", "/api/predictions/{predictionId}/corrections"),
        ("post", "/api/predictions/{predictionId}/reject"),
        ("post", "/api/images/{imageId}/objects"),
        ("get", "/api/images/{imageId}/objectsets"),
        ("get", "/api/objectsets/{objectSetId}"),
        ("get", "/api/objectsets/{objectSetId}/objects.csv"),
        ("get", "/api/objectsets/{objectSetId}/objects.geojson"),
        ("get", "/api/objectsets/{objectSetId}/labels.png"),
        ("post", "/api/objectsets/{objectSetId}/objects/{objectId}/class"),
        ("get", "/api/images/{imageId}/reference"),
        ("get", "/api/images/{imageId}/reference/labels.tif"),
        ("get", "/api/images/{imageId}/reference/provenance.tif"),
        ("post", "/api/projects/{projectId}/export"),
        ("get", "/api/events.csv"),
        ("post", "/api/session"), ("get", "/api/session"), ("delete", "/api/session"),
        ("put", "/api/session/password"),
        ("get", "/api/projects/{projectId}/members"), ("post", "/api/projects/{projectId}/members"),
        ("delete", "/api/projects/{projectId}/members"),
        ("get", "/api/audit"),
    ]

    /// The OpenAPI 3.1 document itself, served as is at `GET /api/openapi.json`.
    public static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "Cleave workbench API",
        "version": "1",
        "description": "Projects, images (content-addressed, validated on upload), a 256x256 PNG tile pyramid, brush strokes with undo/redo, background jobs (cluster, train, predict, objects) with progress as server-sent events, reference labels with provenance, zip export and import, and an append-only interaction event log. Errors are {\"error\": \"one line\"} with a 4xx/5xx status. Calls that record or read events or strokes, and every POST/PUT/PATCH/DELETE, identify the pseudonymous user with the X-Cleave-User header (8-64 characters of letters, digits, '-', '_'). State-changing requests without it, with another site's Origin or with a form content type (text/plain, application/x-www-form-urlencoded, multipart/form-data) are refused with 403, and so is every request whose Host is not a loopback name while the server listens on loopback (DNS rebinding). Accounts: with none the workbench is single-user (loopback only, no login). Once an account exists (cleave user add), every route but this document, the page and POST /api/session answers 401 without a session cookie; state-changing requests must also send the session's X-CSRF-Token (it may replace X-Cleave-User; events then carry the account's pseudonym, never its name). Each project is visible to its members only: viewer (read and export), annotator (also paint, correct results, set regions of interest, run tools, edit classes), owner (also members, consent, deleting classes); administrators see every project. Another project's ids answer 404, exactly as ids that do not exist; a role too low answers 403. Exports, imports and deletions are recorded in an audit log (GET /api/audit, administrators)."
      },
      "paths": {
        "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI JSON"}}}},
        "/api/projects": {
          "get": {"summary": "List projects", "responses": {"200": {"description": "{projects: [Project]}", "content": {"application/json": {"schema": {"type": "object", "properties": {"projects": {"type": "array", "items": {"$ref": "#/components/schemas/Project"}}}}}}}}},
          "post": {"summary": "Create a project",
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200}}}}}},
                   "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Project"}}}}, "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/projects/import": {
          "post": {"summary": "Import a project export zip (from POST /api/projects/{projectId}/export) as a new project owned by the caller (anyone who may create projects; audited as import.project; 'import' event). The body is the raw zip (stored or deflate entries, zip64 read); it is streamed to disk with the upload limit, and checked completely before anything is stored: entry names (no .. or absolute paths), duplicates, unpacked sizes (zip bombs), metadata.json (format version up to this build's), every image against its SHA-256 and decoded, the label and provenance TIFFs, the strokes (classes defined, and repainting them gives the export's painted labels). Refused archives leave nothing behind (400 with one line, 413 past the limits). New ids; the project is named 'NAME (imported)', '(imported 2)', … unless ?name= is given. Strokes keep their painters' pseudonyms and times; labels from results (picked clusters, accepted or corrected predictions) are counted in unrestoredPixels, not restored.",
                   "parameters": [{"name": "name", "in": "query", "schema": {"type": "string"}, "description": "The new project's name (1 to 200 characters)."}, {"name": "sessionId", "in": "query", "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}],
                   "requestBody": {"required": true, "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}, "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                   "responses": {"201": {"description": "{project: Project, images, classes, strokes, unrestoredPixels, ignoredEntries: [string], source: {projectId, projectName, exportedAt, cleaveVersion, formatVersion, archiveSha256}}", "content": {"application/json": {"schema": {"type": "object", "properties": {"project": {"$ref": "#/components/schemas/Project"}, "images": {"type": "integer"}, "classes": {"type": "integer"}, "strokes": {"type": "integer"}, "unrestoredPixels": {"type": "integer"}, "ignoredEntries": {"type": "array", "items": {"type": "string"}}, "source": {"type": "object"}}}}}}, "400": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/projects/{projectId}": {
          "get": {"summary": "One project", "parameters": [{"$ref": "#/components/parameters/projectId"}],
                  "responses": {"200": {"description": "Project", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Project"}}}}, "404": {"$ref": "#/components/responses/Error"}}},
          "put": {"summary": "Rename the project (owner; 'project.rename' event with sessionId)", "parameters": [{"$ref": "#/components/parameters/projectId"}, {"$ref": "#/components/parameters/user"}],
                  "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Rename"}}}},
                  "responses": {"200": {"description": "Project", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Project"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
          "delete": {"summary": "Delete the project and everything of it (owner; audited; 'project.delete' event with ?sessionId=): its queued and running jobs are cancelled first, then its images, strokes, clusterings, predictions, object sets, classes, models, members and jobs go with their files; image files only when no other image has the same content. Events and the audit log stay.", "parameters": [{"$ref": "#/components/parameters/projectId"}, {"name": "sessionId", "in": "query", "schema": {"type": "string"}}],
                     "responses": {"200": {"description": "What was deleted", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deletion"}}}}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/projects/{projectId}/deletion": {
          "get": {"summary": "What deleting the project would remove (owner; nothing changes)", "parameters": [{"$ref": "#/components/parameters/projectId"}],
                  "responses": {"200": {"description": "Counts", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deletion"}}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/projects/{projectId}/images": {
          "get": {"summary": "List a project's images", "parameters": [{"$ref": "#/components/parameters/projectId"}],
                  "responses": {"200": {"description": "{images: [Image]}", "content": {"application/json": {"schema": {"type": "object", "properties": {"images": {"type": "array", "items": {"$ref": "#/components/schemas/Image"}}}}}}}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"summary": "Upload an image (TIFF, PNG or MRC; detected from the content). The body is the raw file; it is streamed to disk, decoded completely to validate it, and stored under its SHA-256. Rejected uploads leave nothing behind: more pixels than --max-image-pixels (413, from the header, before decoding); float pixels that are NaN or infinite (422).",
                   "parameters": [{"$ref": "#/components/parameters/projectId"}, {"name": "name", "in": "query", "schema": {"type": "string"}, "description": "Display name only (never a path): names with / or \\\\ or a leading .. are refused (400); an image extension must match the content (415)."}],
                   "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                   "responses": {"201": {"description": "Stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Image"}}}}, "400": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}": {
          "get": {"summary": "Image information", "parameters": [{"$ref": "#/components/parameters/imageId"}],
                  "responses": {"200": {"description": "Image", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Image"}}}}, "404": {"$ref": "#/components/responses/Error"}}},
          "put": {"summary": "Rename the image (annotator; a display name, sanitised as at upload; 'image.rename' event with sessionId)", "parameters": [{"$ref": "#/components/parameters/imageId"}, {"$ref": "#/components/parameters/user"}],
                  "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Rename"}}}},
                  "responses": {"200": {"description": "Image", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Image"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
          "delete": {"summary": "Delete the image (owner; audited; 'image.delete' event with ?sessionId=): its queued and running jobs are cancelled first, then its strokes, clusterings, predictions, object sets, region of interest and jobs go with their files and cached tiles; the image file only when no other image has the same content. The project's models stay.", "parameters": [{"$ref": "#/components/parameters/imageId"}, {"name": "sessionId", "in": "query", "schema": {"type": "string"}}],
                     "responses": {"200": {"description": "What was deleted", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deletion"}}}}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/deletion": {
          "get": {"summary": "What deleting the image would remove (owner; nothing changes)", "parameters": [{"$ref": "#/components/parameters/imageId"}],
                  "responses": {"200": {"description": "Counts", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deletion"}}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/window": {
          "get": {"summary": "Default contrast window (8-bit: 0-255; 16-bit and float: 0.5-99.5 percentiles of plane 0) and the auto window (0.5-99.5 percentiles of ?plane=, every pixel type), of channel ?channel= (default 0)", "parameters": [{"$ref": "#/components/parameters/imageId"}, {"name": "plane", "in": "query", "schema": {"type": "integer", "minimum": 0}}, {"name": "channel", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
                  "responses": {"200": {"description": "Window", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Window"}}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/tiles/{level}/{x}/{y}.png": {
          "get": {"summary": "One 8-bit grey (or, with channels, RGB composite) PNG tile (256x256, smaller at the right and bottom edges). Level 0 is full resolution, level L is downsampled by 2^L. Tiles are cached on disk per window.",
                  "parameters": [{"$ref": "#/components/parameters/imageId"},
                                 {"name": "level", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}},
                                 {"name": "x", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}},
                                 {"name": "y", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}},
                                 {"name": "low", "in": "query", "schema": {"type": "number"}, "description": "Window low value (with high)"},
                                 {"name": "high", "in": "query", "schema": {"type": "number"}, "description": "Window high value (with low)"},
                                 {"name": "channels", "in": "query", "schema": {"type": "string"}, "description": "A composite of channels, an RGB PNG: comma-separated channel:low:high:rrggbb (each channel's window and colour, added and clipped; e.g. 0:0:255:ff0000,1:0:255:00ff00). Without it the tile is channel 0 in grey."}],
                  "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/orthogonal/{axis}.png": {
          "get": {"summary": "An orthogonal view of a stack as an 8-bit grey PNG, channel 0 through the window: xz = the slice through row ?at= (width x depth, planes downwards), yz = through column ?at= (depth x height, planes to the right); at defaults to the middle",
                  "parameters": [{"$ref": "#/components/parameters/imageId"},
                                 {"name": "axis", "in": "path", "required": true, "schema": {"enum": ["xz", "yz"]}},
                                 {"name": "at", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                                 {"name": "low", "in": "query", "schema": {"type": "number"}},
                                 {"name": "high", "in": "query", "schema": {"type": "number"}}],
                  "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/strokes": {
          "get": {"summary": "Active strokes in drawing order (include=undone for all)", "parameters": [{"$ref": "#/components/parameters/imageId"}, {"name": "include", "in": "query", "schema": {"enum": ["undone"]}}],
                  "responses": {"200": {"description": "{strokes: [Stroke]}"}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"summary": "Store a brush stroke (and a 'stroke' event) before answering", "parameters": [{"$ref": "#/components/parameters/imageId"}, {"$ref": "#/components/parameters/user"}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StrokeInput"}}}},
                   "responses": {"201": {"description": "Stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stroke"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/roi": {
          "get": {"summary": "The image's region of interest: polygon [[x, y], …] in image pixel coordinates and/or outsideClass (both absent: the whole image)", "parameters": [{"$ref": "#/components/parameters/imageId"}],
                  "responses": {"200": {"description": "RegionOfInterest"}, "404": {"$ref": "#/components/responses/Error"}}},
          "put": {"summary": "Set the region of interest ('roi' event); class fractions and objects then count only pixels inside the polygon and not of outsideClass, and the label TIFF and class picture are 0 outside the polygon; the image's predictions' fractions are recomputed. Both fields absent or null clears it", "parameters": [{"$ref": "#/components/parameters/imageId"}, {"$ref": "#/components/parameters/user"}],
                  "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"polygon": {"type": ["array", "null"], "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}, "minItems": 3, "maxItems": 10000}, "outsideClass": {"type": ["integer", "null"]}, "sessionId": {"type": "string"}, "clientTime": {"type": "string"}}, "required": ["sessionId"]}}}},
                  "responses": {"200": {"description": "RegionOfInterest"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
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
        },
        "/api/projects/{projectId}/consent": {
          "put": {"summary": "Set the project's explicit open-data consent ('consent' event)", "parameters": [{"name": "projectId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{consent: boolean, sessionId}"}}}}, "responses": {"200": {"description": "Project"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/projects/{projectId}/classes": {
          "get": {"summary": "The project's classes by value", "parameters": [{"name": "projectId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "{classes: [Class]}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"summary": "Create a class (value defaults to the smallest free one, colour to the palette)", "parameters": [{"name": "projectId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{name, colour?: #rrggbb, value?: 1-255, sessionId?}"}}}}, "responses": {"201": {"description": "Class"}, "409": {"description": "name or value taken"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/classes/{classId}": {
          "put": {"summary": "Rename or recolour a class (the value cannot change)", "parameters": [{"name": "classId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{name?, colour?, sessionId?}"}}}}, "responses": {"200": {"description": "Class"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
          "delete": {"summary": "Delete a class (owner; 'class.delete' event with ?sessionId=). A class that labels strokes or pixels corrected by hand is refused (409 with strokes and correctedPixels beside error) unless ?discard=true: then its strokes become 'discarded' and its corrections discarded (kept for provenance, used neither for training nor as reference labels). Trained models keep their own class list.", "parameters": [{"name": "classId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}, {"name": "discard", "in": "query", "schema": {"enum": ["true"]}}, {"name": "sessionId", "in": "query", "schema": {"type": "string"}}], "responses": {"200": {"description": "{deleted: 1, discardedStrokes, discardedCorrectedPixels}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"description": "{error, strokes, correctedPixels}"}}}
        },
        "/api/jobs": {
          "get": {"summary": "Recent jobs, newest first (at most 100)", "parameters": [{"name": "imageId", "in": "query", "required": false, "schema": {"type": "string"}}], "responses": {"200": {"description": "{jobs: [Job]}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/jobs/{jobId}": {
          "get": {"summary": "One job: state queued|running|done|failed|cancelled, progress 0-1, stage, result, one-line error", "parameters": [{"name": "jobId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "Job"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/jobs/{jobId}/cancel": {
          "post": {"summary": "Ask a job to stop (queued: at once; running: at its next check)", "parameters": [{"name": "jobId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "Job"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/jobs/{jobId}/events": {
          "get": {"summary": "Server-sent events: 'event: job' with the Job JSON on every change (progress at most ~10/s); the stream ends after a terminal state", "parameters": [{"name": "jobId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "text/event-stream", "content": {"text/event-stream": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/cluster": {
          "post": {"summary": "Start a Locator clustering job (features cached per image and feature settings)", "parameters": [{"name": "imageId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId, plane, channel, and the LocatorSettings fields (as cleave locate): mode: grid|window, gridRows, gridColumns, patchSize, windowSize, windowStride, clusterCount, features: [name], scaler: zscore|minmax|robust, reduce: none|pca:N|pca:F|nmf:N, algorithm: kmeans|agglomerative, linkage, metric, seed, excludeDark (absent = automatic), darkMargin, pick, similarTo, similarityThreshold, kRange, gradientSigma, glcmDistance, glcmLevels, flatten, compressTails, normalizeTiles, lineCheck; pickModelFrom: a clustering whose pick model classifies this image; a bad value is a 400 naming the field}"}}}}, "responses": {"202": {"description": "Job (result {clusteringId})"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/clusterings": {
          "get": {"summary": "The image's clusterings", "parameters": [{"name": "imageId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "{clusterings: [Clustering]}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/clusterings/{clusteringId}": {
          "get": {"summary": "One clustering: clusters with size, colour, feature signature, name, pick, merge; suggested pick; state", "parameters": [{"name": "clusteringId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "Clustering"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/clusterings/{clusteringId}/overlay.png": {
          "get": {"summary": "RGBA overlay of the clusters over the whole image, downsampled by overlayScale", "parameters": [{"name": "clusteringId", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "opacity", "in": "query", "required": false, "schema": {"type": "number"}}], "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/clusterings/{clusteringId}/at": {
          "get": {"summary": "The cluster (after merges) under image pixel (x, y)", "parameters": [{"name": "clusteringId", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "x", "in": "query", "required": false, "schema": {"type": "number"}}, {"name": "y", "in": "query", "required": false, "schema": {"type": "number"}}], "responses": {"200": {"description": "{cluster: integer|null}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/clusterings/{clusteringId}/pick": {
          "post": {"summary": "Pick and name a cluster; class (or a class with that name) makes it weak reference labels", "parameters": [{"name": "clusteringId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId, cluster, name, class?}; the picks teach a Locator model (Clustering.pickModel, model.json)"}}}}, "responses": {"200": {"description": "Clustering"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/clusterings/{clusteringId}/model.json": {
          "get": {"summary": "The Locator model the clustering's picks taught (format version 3: scaling, centroids, a random-forest pick classifier), for pickModelFrom or cleave locate --model", "parameters": [{"name": "clusteringId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "Locator model JSON (attachment)"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/clusterings/{clusteringId}/merge": {
          "post": {"summary": "Merge cluster b into cluster a", "parameters": [{"name": "clusteringId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId, clusters: [a, b]}"}}}}, "responses": {"200": {"description": "Clustering"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/clusterings/{clusteringId}/accept": {
          "post": {"summary": "Accept a clustering ('accept' event)", "parameters": [{"name": "clusteringId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId}"}}}}, "responses": {"200": {"description": "Clustering"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/clusterings/{clusteringId}/reject": {
          "post": {"summary": "Reject a clustering ('reject' event)", "parameters": [{"name": "clusteringId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId}"}}}}, "responses": {"200": {"description": "Clustering"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/train": {
          "post": {"summary": "Start training a pixel classifier (random forest, or a U-Net with method unet) from the active strokes and corrections of the project's images (a new model version)", "parameters": [{"name": "imageId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId, imageIds?, method?: forest|unet, seed?; forest: treeCount?: 1-500, bank?: default|ilastik|windows|fast|full; unet: steps?: 1-20000, minutes?}"}}}}, "responses": {"202": {"description": "Job (result {modelId, version})"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/projects/{projectId}/models": {
          "get": {"summary": "The project's models by version", "parameters": [{"name": "projectId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "{models: [Model]}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/pixel-size": {
          "put": {"summary": "Set the image's pixel size by hand (or clear it): areas in its predictions' fractions are recomputed", "parameters": [{"name": "imageId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId, x, y? (default x), unit: pm|Å|nm|µm|mm|m} or {sessionId} to clear"}}}}, "responses": {"200": {"description": "Image"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/projects/{projectId}/fractions.csv": {
          "get": {"summary": "Class fractions of every image of the project (its newest accepted whole-image result, else its newest whole-image one): one row per image and class", "parameters": [{"name": "projectId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/models/{modelId}/model.json": {
          "get": {"summary": "The model file (cleave predict --model reads it)", "parameters": [{"name": "modelId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "JSON", "content": {"application/json": {}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/models/{modelId}/model.onnx": {
          "get": {"summary": "A U-Net model as ONNX (opset 17; 400 for a random forest)", "parameters": [{"name": "modelId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "ONNX", "content": {"application/octet-stream": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/models/{modelId}": {
          "get": {"summary": "One model: version, classes, training images, labelled pixels, out-of-bag accuracy", "parameters": [{"name": "modelId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "Model"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/predict": {
          "post": {"summary": "Start a prediction of the whole image or a region (live update of the visible part)", "parameters": [{"name": "imageId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId, modelId? (default newest), region?: {x, y, width, height}}"}}}}, "responses": {"202": {"description": "Job (result {predictionId})"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/predictions": {
          "get": {"summary": "The image's predictions", "parameters": [{"name": "imageId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "{predictions: [Prediction]}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/predictions/{predictionId}": {
          "get": {"summary": "One prediction: region, classes, class fractions (area in physical units when the pixel size is known), mean uncertainty, state", "parameters": [{"name": "predictionId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "Prediction"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/predictions/{predictionId}/corrections": {
          "post": {"summary": "Correct the result by hand ('correction' event): mode brush (pixels within radius of the polyline points), lasso (inside the closed polygon points) or fill (the 4-connected region of the predicted class under points[0]) take class; labels, fractions, pictures and exports follow at once; the pixels become reference labels of provenance 3 (corrected) and training labels of the next model", "parameters": [{"name": "predictionId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"class": {"type": "integer"}, "mode": {"enum": ["brush", "lasso", "fill"]}, "points": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}, "radius": {"type": "number"}, "plane": {"type": "integer"}, "sessionId": {"type": "string"}, "clientTime": {"type": "string"}}, "required": ["class", "mode", "points", "sessionId"]}}}},
                   "responses": {"200": {"description": "{prediction, changedPixels, correctedPixels}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/predictions/{predictionId}/labels.png": {
          "get": {"summary": "RGBA class colours over the prediction's region", "parameters": [{"name": "predictionId", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "opacity", "in": "query", "required": false, "schema": {"type": "number"}}], "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/predictions/{predictionId}/uncertainty.png": {
          "get": {"summary": "RGBA uncertainty heat map (alpha = opacity x uncertainty)", "parameters": [{"name": "predictionId", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "opacity", "in": "query", "required": false, "schema": {"type": "number"}}], "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/predictions/{predictionId}/labels.tif": {
          "get": {"summary": "8-bit label TIFF (class values) of the region", "parameters": [{"name": "predictionId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "TIFF", "content": {"image/tiff": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/predictions/{predictionId}/probabilities.tif": {
          "get": {"summary": "Class probabilities as a float32 TIFF, one page per class (in the prediction's class order), over the region; values 0-1 summing to 1 per pixel", "parameters": [{"name": "predictionId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "TIFF", "content": {"image/tiff": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/predictions/{predictionId}/overlay.png": {
          "get": {"summary": "RGB picture of the region: the image (plane 0, default contrast window) with class colours blended in at opacity (default 0.5)", "parameters": [{"name": "predictionId", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "opacity", "in": "query", "required": false, "schema": {"type": "number", "minimum": 0, "maximum": 1}}], "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/predictions/{predictionId}/fractions.json": {
          "get": {"summary": "Class fractions", "parameters": [{"name": "predictionId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "{fractions: [Fraction]}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/predictions/{predictionId}/accept": {
          "post": {"summary": "Accept a prediction (its labels become weak reference labels)", "parameters": [{"name": "predictionId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId}"}}}}, "responses": {"200": {"description": "Prediction"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/predictions/{predictionId}/reject": {
          "post": {"summary": "Reject a prediction", "parameters": [{"name": "predictionId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId}"}}}}, "responses": {"200": {"description": "Prediction"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/objects": {
          "post": {"summary": "Start finding and measuring the objects of one class of a prediction (ObjectsPipeline)", "parameters": [{"name": "imageId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId, predictionId, class, minimumSize?}"}}}}, "responses": {"202": {"description": "Job (result {objectSetId})"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/objectsets": {
          "get": {"summary": "The image's object sets, oldest first (to reopen them after a reload)", "parameters": [{"$ref": "#/components/parameters/imageId"}], "responses": {"200": {"description": "{objectSets: [ObjectSet]}"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/objectsets/{objectSetId}": {
          "get": {"summary": "Objects with their measurements", "parameters": [{"name": "objectSetId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "ObjectSet"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/objectsets/{objectSetId}/objects.csv": {
          "get": {"summary": "The object table as CSV", "parameters": [{"name": "objectSetId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/objectsets/{objectSetId}/objects.geojson": {
          "get": {"summary": "Object outlines as a GeoJSON FeatureCollection (pixel coordinates of the prediction's region, x = column, y = row); properties label, objectType, classification {name, color}, measurements", "parameters": [{"name": "objectSetId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "GeoJSON", "content": {"application/geo+json": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/objectsets/{objectSetId}/labels.png": {
          "get": {"summary": "Objects in categorical colours over the prediction's region", "parameters": [{"name": "objectSetId", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "opacity", "in": "query", "required": false, "schema": {"type": "number"}}], "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/objectsets/{objectSetId}/objects/{objectId}/class": {
          "post": {"summary": "Reclassify one object ('object.reclassify' event)", "parameters": [{"name": "objectSetId", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "objectId", "in": "path", "required": true, "schema": {"type": "integer"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId, class: name}"}}}}, "responses": {"200": {"description": "Object"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/reference": {
          "get": {"summary": "Summary of the derived reference labels: strong (painted) and weak (picked cluster, accepted result) pixels, discarded slips", "parameters": [{"name": "imageId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "Reference"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/reference/labels.tif": {
          "get": {"summary": "Reference labels (class values, 0 = none) as an 8-bit TIFF", "parameters": [{"name": "imageId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "TIFF", "content": {"image/tiff": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/images/{imageId}/reference/provenance.tif": {
          "get": {"summary": "Provenance per pixel: 2 painted/corrected, 1 picked cluster or accepted result, 0 none", "parameters": [{"name": "imageId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "TIFF", "content": {"image/tiff": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/projects/{projectId}/export": {
          "post": {"summary": "Export reference data as a zip (format version 2; POST /api/projects/import reads it back): images, label and provenance TIFFs, strokes/<imageId>.json (every stroke with its pseudonymous painter and times), events.csv, metadata.json (classes, pixel size, licence CC-BY-4.0, consent per image, Cleave version); openData includes only consented projects", "parameters": [{"name": "projectId", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/user"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "{sessionId, openData?: boolean}"}}}}, "responses": {"200": {"description": "application/zip", "content": {"application/zip": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/session": {
          "post": {"summary": "Sign in: sets the session cookie (HttpOnly, SameSite=Strict, Path=/; Secure with --secure-cookies) and returns the CSRF token. Five failures in a row for a name or a client address make each further attempt wait 1, 2, 4 ... s (at most 15 min; 429 with Retry-After).", "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name", "password"], "properties": {"name": {"type": "string"}, "password": {"type": "string"}}}}}}, "responses": {"200": {"description": "{accounts: true, user: {name, admin, pseudonym}, csrfToken}"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "409": {"description": "no accounts (single-user mode)"}, "429": {"$ref": "#/components/responses/Error"}}},
          "get": {"summary": "Who is signed in: {accounts, user: {name, admin, pseudonym} | null, csrfToken | null}; accounts false in single-user mode", "responses": {"200": {"description": "Session"}, "401": {"$ref": "#/components/responses/Error"}}},
          "delete": {"summary": "Sign out: ends the session and clears the cookie", "responses": {"200": {"description": "Session"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/session/password": {
          "put": {"summary": "Change the signed-in account's password (the account's other sessions end)", "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["currentPassword", "newPassword"], "properties": {"currentPassword": {"type": "string"}, "newPassword": {"type": "string", "minLength": 8}}}}}}, "responses": {"200": {"description": "Session"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/projects/{projectId}/members": {
          "get": {"summary": "The project's members and roles", "parameters": [{"$ref": "#/components/parameters/projectId"}], "responses": {"200": {"description": "{members: [{name, role, addedAt}]}"}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"summary": "Add a member or change a member's role (owners)", "parameters": [{"$ref": "#/components/parameters/projectId"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name", "role"], "properties": {"name": {"type": "string"}, "role": {"enum": ["owner", "annotator", "viewer"]}}}}}}, "responses": {"200": {"description": "{name, role, addedAt}"}, "400": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"description": "the last owner cannot be demoted"}}},
          "delete": {"summary": "Remove a member (owners; the last owner stays)", "parameters": [{"$ref": "#/components/parameters/projectId"}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}}, "responses": {"200": {"description": "{deleted: 1}"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"description": "the last owner cannot be removed"}}}
        },
        "/api/audit": {
          "get": {"summary": "Who exported or deleted what, and when, newest first (at most 1000; administrators)", "responses": {"200": {"description": "{audit: [{id, time, user, action, target, projectId, detail}]}"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/events.csv": {
          "get": {"summary": "The caller's own events as CSV", "parameters": [{"$ref": "#/components/parameters/user"}], "responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
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
          "Rename": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200}, "sessionId": {"type": "string"}, "clientTime": {"type": "string"}}},
          "Deletion": {"type": "object", "properties": {"images": {"type": "integer"}, "strokes": {"type": "integer"}, "clusterings": {"type": "integer"}, "predictions": {"type": "integer"}, "objectSets": {"type": "integer"}, "models": {"type": "integer"}, "classes": {"type": "integer"}, "runningJobs": {"type": "integer"}}},
          "Window": {"type": "object", "properties": {"low": {"type": "number"}, "high": {"type": "number"}, "method": {"type": "string"}}},
          "Session": {"type": "object", "required": ["sessionId"], "properties": {"sessionId": {"type": "string"}}},
          "StrokeInput": {"type": "object", "required": ["sessionId", "class", "radius", "points"], "properties": {"sessionId": {"type": "string"}, "class": {"type": "integer", "minimum": 0, "maximum": 255, "description": "class value; 0 = eraser"}, "radius": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000}, "points": {"type": "array", "minItems": 1, "maxItems": 20000, "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}}}},
          "Stroke": {"type": "object", "properties": {"id": {"type": "integer"}, "imageId": {"type": "string"}, "class": {"type": "integer"}, "radius": {"type": "number"}, "points": {"type": "array"}, "state": {"enum": ["active", "undone", "discarded"]}, "createdAt": {"type": "string"}}},
          "EventInput": {"type": "object", "required": ["type", "sessionId"], "properties": {"type": {"type": "string", "pattern": "^[a-z0-9._-]{1,64}$"}, "sessionId": {"type": "string"}, "projectId": {"type": "string"}, "imageId": {"type": "string"}, "clientTime": {"type": "string"}, "payload": {}}},
          "Event": {"type": "object", "properties": {"id": {"type": "integer"}, "userId": {"type": "string"}, "sessionId": {"type": "string"}, "projectId": {"type": ["string", "null"]}, "imageId": {"type": ["string", "null"]}, "appVersion": {"type": "string"}, "clientTime": {"type": ["string", "null"]}, "serverTime": {"type": "string"}, "type": {"type": "string"}, "payload": {}}}
        }
      }
    }
    """#
}
