"""Stream processing (faust-streaming): per-district event-time windows, hourly VN_AQI, alerts."""
