"""Errors of the streams worker."""

from runtime.exceptions import CitysenseError


class StreamsError(CitysenseError):
    """Root of the streams worker's errors."""


class OffsetGapError(StreamsError):
    """Records a batch skipped could not be fetched from Kafka; the worker stops rather than close
    windows without them (a restarted worker resumes from the committed offsets)."""

    retriable = True

    def __init__(self, topic: str, partition: int, start: int, end: int) -> None:
        super().__init__(f"streams: could not fetch offsets {start}..{end - 1} of partition {partition} of {topic} "
                         f"from Kafka within the timeout; is the broker up? (see the worker's log)")
        self.topic, self.partition, self.start, self.end = topic, partition, start, end
