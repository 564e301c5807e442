import json
import logging

from hub.logs import JsonFormatter


def test_json_log_lines_carry_the_extra_fields_that_follow_a_message():
    record = logging.LogRecord("plein", logging.INFO, __file__, 1, "inbound message %s", ("posted",), None)
    record.message_id = "abc@example.com"
    record.inbound_id = 7
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "inbound message posted"
    assert entry["level"] == "info"
    assert (entry["message_id"], entry["inbound_id"]) == ("abc@example.com", 7)
