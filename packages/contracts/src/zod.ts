import { z } from 'zod';
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';

// One zod instance for the whole project, extended once with `.openapi()` so every schema can
// carry its OpenAPI name and examples (validation, types and docs from one source).
extendZodWithOpenApi(z);

export { z };
