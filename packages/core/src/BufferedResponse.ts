/**
 * The answers of NodeHttpClient: the platform's `HttpClientResponse` over a
 * body already read whole, so reading it again costs nothing and holds no
 * socket.
 */
import type * as http from "node:http"
import {
  Cookies,
  Headers,
  type HttpClientRequest,
  HttpClientResponse,
  HttpIncomingMessage,
  UrlParams
} from "@effect/platform"
import { ResponseError } from "@effect/platform/HttpClientError"
import { Effect, Inspectable, Option, type Stream } from "effect"

const ResponseTypeId: HttpClientResponse.TypeId = Symbol.for(
  "@effect/platform/HttpClientResponse"
) as HttpClientResponse.TypeId

/** An answer whose body has been read whole. */
export class BufferedResponse
  extends Inspectable.Class
  implements HttpClientResponse.HttpClientResponse
{
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly [ResponseTypeId]: HttpClientResponse.TypeId = ResponseTypeId
  readonly headers: Headers.Headers
  readonly remoteAddress: Option.Option<string>
  private decoded: string | undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    readonly status: number,
    private readonly message: http.IncomingMessage,
    private readonly body: Buffer
  ) {
    super()
    this.headers = Headers.fromInput(message.headers as Headers.Input)
    this.remoteAddress = Option.fromNullable(message.socket?.remoteAddress)
  }

  get cookies(): Cookies.Cookies {
    const setCookie = this.message.headers["set-cookie"]
    return setCookie === undefined ? Cookies.empty : Cookies.fromSetCookie(setCookie)
  }

  private decodeError(cause: unknown) {
    return new ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  private textNow(): string {
    this.decoded ??= this.body.toString("utf8")
    return this.decoded
  }

  get text(): Effect.Effect<string, ResponseError> {
    return Effect.sync(() => this.textNow())
  }

  get json(): Effect.Effect<unknown, ResponseError> {
    return Effect.try({
      try: () => {
        const text = this.textNow()
        return text === "" ? null : (JSON.parse(text) as unknown)
      },
      catch: (cause) => this.decodeError(cause)
    })
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, ResponseError> {
    return Effect.sync(
      () =>
        this.body.buffer.slice(
          this.body.byteOffset,
          this.body.byteOffset + this.body.byteLength
        ) as ArrayBuffer
    )
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, ResponseError> {
    return Effect.try({
      try: () => UrlParams.fromInput(new URLSearchParams(this.textNow())),
      catch: (cause) => this.decodeError(cause)
    })
  }

  /** The same answer as the platform's fetch-based response, for the rarely used accessors. */
  private asWeb(): HttpClientResponse.HttpClientResponse {
    // A Response refuses any body, even an empty one, with 204, 205 or 304.
    const body = this.body.length === 0 ? null : new Uint8Array(this.body)
    return HttpClientResponse.fromWeb(
      this.request,
      new Response(body, { status: this.status, headers: this.headers })
    )
  }

  get formData(): Effect.Effect<FormData, ResponseError> {
    return this.asWeb().formData
  }

  get stream(): Stream.Stream<Uint8Array, ResponseError> {
    return this.asWeb().stream
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}
