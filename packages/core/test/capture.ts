/** Test doubles that record everything the client emits: every span and every log line. */
import { Cause, Effect, type Exit, Layer, Logger, LogLevel, Option, Tracer } from "effect"

/** A span as a test sees it once the client is done with it. */
export interface CapturedSpan {
  readonly name: string
  readonly parentName: string | undefined
  readonly kind: Tracer.SpanKind
  readonly attributes: Map<string, unknown>
  readonly events: Array<{ readonly name: string; readonly attributes: Record<string, unknown> }>
  exit: Exit.Exit<unknown, unknown> | undefined
}

let ids = 0
const nextId = (): string => (++ids).toString(16).padStart(16, "0")

/** A tracer that keeps every span it starts, with its attributes, events and exit. */
export const capturingTracer = (): {
  readonly tracer: Tracer.Tracer
  readonly spans: Array<CapturedSpan>
} => {
  const spans: Array<CapturedSpan> = []
  const tracer = Tracer.make({
    span(name, parent, context, links, startTime, kind, options) {
      const captured: CapturedSpan = {
        name,
        parentName: Option.getOrUndefined(
          Option.flatMap(parent, (p) => (p._tag === "Span" ? Option.some(p.name) : Option.none()))
        ),
        kind,
        attributes: new Map(Object.entries(options?.attributes ?? {})),
        events: [],
        exit: undefined
      }
      spans.push(captured)
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: nextId(),
        traceId: Option.match(parent, { onNone: () => nextId(), onSome: (p) => p.traceId }),
        parent,
        context,
        get status(): Tracer.SpanStatus {
          return captured.exit === undefined
            ? { _tag: "Started", startTime }
            : { _tag: "Ended", startTime, endTime: startTime, exit: captured.exit }
        },
        attributes: captured.attributes,
        links: Array.from(links),
        sampled: true,
        kind,
        end: (_, exit) => {
          captured.exit = exit
        },
        attribute: (key, value) => {
          captured.attributes.set(key, value)
        },
        event: (eventName, _, attributes) => {
          captured.events.push({ name: eventName, attributes: attributes ?? {} })
        },
        addLinks: () => {}
      }
      return span
    },
    context: (f) => f()
  })
  return { tracer, spans }
}

/**
 * Renders what a span exporter ships: name, attributes, events, and a failure as an exception
 * (message and stack). Not the exit's success value, which no exporter records.
 */
export const renderSpan = (span: CapturedSpan): string =>
  [
    span.name,
    JSON.stringify([...span.attributes]),
    JSON.stringify(span.events),
    span.exit !== undefined && span.exit._tag === "Failure" ? Cause.pretty(span.exit.cause) : ""
  ].join("\n")

/** A logger layer that keeps every line, at every level, in two formats (logfmt and JSON). */
export const capturingLogger = (): {
  readonly layer: Layer.Layer<never>
  readonly lines: Array<string>
} => {
  const lines: Array<string> = []
  const logger = Logger.zip(Logger.logfmtLogger, Logger.structuredLogger).pipe(
    Logger.map(([line, structured]) => lines.push(line, JSON.stringify(structured)))
  )
  const layer = Layer.merge(
    Logger.replace(Logger.defaultLogger, logger),
    Logger.minimumLogLevel(LogLevel.All)
  )
  return { layer, lines }
}

/** Runs an effect with both captures installed. */
export const capturing = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  tracer: Tracer.Tracer,
  logs: Layer.Layer<never>
): Effect.Effect<A, E, R> => effect.pipe(Effect.withTracer(tracer), Effect.provide(logs))
