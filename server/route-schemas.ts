// Fastify's route schemas (the API's bodies, parameters and queries) are
// checked by the same TypeBox compiler that checks every chat message at the
// edge (core/validate.ts), not by Fastify's default Ajv: one schema engine in
// the process. Fastify's defaults would also load Ajv and fast-json-stringify,
// about 2 MB of code on the heap of every server, which each full GC marks
// (benchmarks/README.md, nineteenth pass). Responses are JSON.stringify'd: each
// route builds its answer in its schema's shape, and the schema documents it.
import type { FastifyServerOptions } from 'fastify'
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>

// Every route schema in the app is a TypeBox schema (see the plugins).
function validatorCompiler({ schema, httpPart }: { schema: unknown; httpPart?: string }) {
  const check = TypeCompiler.Compile(schema as TSchema)
  return (data: unknown) => {
    if (check.Check(data)) return { value: data }
    const first = check.Errors(data).First()
    // Fastify turns it into FST_ERR_VALIDATION, a 400 the error handler answers as LAB_ERR_BAD_MESSAGE.
    return { error: new Error(`${httpPart ?? 'request'} at ${first?.path || '/'}: ${first?.message ?? 'invalid'}`) }
  }
}

const serializerCompiler = () => (data: unknown) => JSON.stringify(data)

/** Fastify's `schemaController.compilersFactory`: the compilers above for every route of the app. */
export const schemaCompilers: CompilersFactory = {
  // Fastify's types describe Ajv's compile function; what Fastify calls is any function that answers
  // { value } or { error }, as for setValidatorCompiler.
  buildValidator: (() => validatorCompiler) as unknown as CompilersFactory['buildValidator'],
  buildSerializer: () => serializerCompiler,
}
