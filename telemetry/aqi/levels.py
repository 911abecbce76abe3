"""AQI categories (Table 1 of Decision 1459/QĐ-TCMT): names in Vietnamese and English, colours, advice."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    low: int
    high: int
    vi: str
    en: str
    colour_name: str
    rgb: tuple[int, int, int]
    health_vi: str
    health_en: str

    def as_dict(self) -> dict:
        return {"vi": self.vi, "en": self.en}


LEVELS = (
    Level(0, 50, "Tốt", "Good", "green", (0, 228, 0),
          "Chất lượng không khí tốt, không ảnh hưởng tới sức khỏe",
          "Air quality is good; no health effect."),
    Level(51, 100, "Trung bình", "Moderate", "yellow", (255, 255, 0),
          "Chất lượng không khí ở mức chấp nhận được; nhóm nhạy cảm có thể bị ảnh hưởng",
          "Acceptable; people in sensitive groups may be affected."),
    Level(101, 150, "Kém", "Poor", "orange", (255, 126, 0),
          "Nhóm nhạy cảm có thể gặp vấn đề về sức khỏe; người bình thường ít ảnh hưởng",
          "Sensitive groups may have health problems; the general public is little affected."),
    Level(151, 200, "Xấu", "Bad", "red", (255, 0, 0),
          "Mọi người bắt đầu bị ảnh hưởng tới sức khỏe; nhóm nhạy cảm bị ảnh hưởng nghiêm trọng hơn",
          "Everyone begins to be affected; sensitive groups more seriously."),
    Level(201, 300, "Rất xấu", "Very bad", "purple", (143, 63, 151),
          "Cảnh báo sức khỏe: mọi người bị ảnh hưởng nghiêm trọng hơn",
          "Health warning: everyone may be affected more seriously."),
    Level(301, 500, "Nguy hại", "Hazardous", "maroon", (126, 0, 35),
          "Cảnh báo khẩn cấp về sức khỏe: toàn bộ dân số bị ảnh hưởng nghiêm trọng; ở trong nhà, đóng cửa, đeo khẩu trang khi ra ngoài",
          "Health emergency: the whole population is seriously affected; stay indoors, close doors and windows, wear a mask outside."),
)


def level_for(aqi: int) -> Level:
    """The category of an (integer, capped) AQI value."""
    for level in LEVELS:
        if aqi <= level.high:
            return level
    return LEVELS[-1]
