/**
 * Logging to stderr only: on stdio, stdout carries JSON-RPC and nothing else,
 * and Effect's default logger would write to stdout.
 */
import { Config } from "@trackstar-mcp/core"
import { Layer, Logger, LogLevel } from "effect"

const LEVELS: Readonly<Record<string, LogLevel.LogLevel>> = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  none: LogLevel.None
}

/** Parses `TRACKSTAR_LOG_LEVEL` (unset or blank: info), or says what it takes. */
export const levelOf = (value: string | undefined): LogLevel.LogLevel | string => {
  if (value === undefined || value.trim() === "") return LogLevel.Info
  return (
    LEVELS[value.trim().toLowerCase()] ??
    `TRACKSTAR_LOG_LEVEL must be one of ${Object.keys(LEVELS).join(", ")}, got ${Config.quoteRejected(value)}`
  )
}

/**
 * Replaces the default logger with a logfmt logger on stderr at the given
 * level. Every level still reaches other loggers (an MCP client may ask for
 * debug logs while stderr shows only warnings).
 */
export const layer = (level: LogLevel.LogLevel): Layer.Layer<never> =>
  Layer.merge(
    Logger.replace(
      Logger.defaultLogger,
      Logger.withConsoleError(Logger.logfmtLogger).pipe(
        Logger.filterLogLevel(LogLevel.greaterThanEqual(level))
      )
    ),
    Logger.minimumLogLevel(LogLevel.Debug)
  )
