// Every HTTP error leaves as the protocol's error message with a stable code,
// whether it came from the protocol (LabError) or from Fastify itself.
import fp from 'fastify-plugin'
import type { FastifyError } from 'fastify'
import { ERRORS, isLabError, type ErrorCode } from '../core/errors.ts'
import { WWW_AUTHENTICATE } from '../edge.ts'

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'LAB_ERR_BAD_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'LAB_ERR_BAD_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'LAB_ERR_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'LAB_ERR_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'LAB_ERR_BAD_MESSAGE',
  FST_ERR_VALIDATION: 'LAB_ERR_BAD_MESSAGE',
}

export const errorReplies = fp(
  async (app) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (isLabError(error)) {
        request.log.info({ code: error.code }, error.message)
        if (error.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.retryAfterSeconds))
        // A client that keeps sending into the limit pays a new connection for every further try.
        if (error.hangUp) void reply.header('connection', 'close')
        if (error.status === 401) void reply.header('www-authenticate', WWW_AUTHENTICATE)
        return reply.code(error.status).send({ type: 'error', code: error.code, message: error.message })
      }
      // Whatever Fastify itself refuses as the client's fault stays a 4xx with a code, never a 500.
      const code =
        FASTIFY_CODES[error.code] ??
        (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
          ? 'LAB_ERR_BAD_MESSAGE'
          : undefined)
      if (code) {
        const message = code === 'LAB_ERR_MEDIA_TYPE' ? ERRORS[code].text : `${ERRORS[code].text}: ${error.message}`
        request.log.info({ code, fastifyCode: error.code }, message)
        return reply.code(ERRORS[code].status).send({ type: 'error', code, message })
      }
      request.log.error({ err: error }, 'unhandled error')
      return reply.code(500).send({ type: 'error', code: 'LAB_ERR_INTERNAL', message: ERRORS.LAB_ERR_INTERNAL.text })
    })

    app.setNotFoundHandler((request, reply) => {
      return reply.code(404).send({
        type: 'error',
        code: 'LAB_ERR_NOT_FOUND',
        message: `no route for ${request.method} ${request.url.split('?')[0]}`,
      })
    })
  },
  { name: 'error-replies' },
)
