"""A minimal Faust app for the stack test: doubles each value from one topic into another.

Run as `python faust_echo_app.py worker`; topic names, broker and data dir come from the environment.
"""

import os

import faust

app = faust.App(
    os.environ["ECHO_APP_ID"],
    broker=f"kafka://{os.environ['ECHO_BROKER']}",
    store="memory://",
    datadir=os.environ["ECHO_DATADIR"],
    web_enabled=False,
    topic_partitions=1,
    producer_acks=-1,
)
source = app.topic(os.environ["ECHO_IN"], value_serializer="json")
sink = app.topic(os.environ["ECHO_OUT"], value_serializer="json")


@app.agent(source)
async def double(stream):
    async for value in stream:
        await sink.send(value={"n": value["n"], "doubled": value["n"] * 2})


if __name__ == "__main__":
    app.main()
