// Labels in Vietnamese (the default) and English. Static labels carry data-i18n="key"; views that
// draw text call t(key) and are redrawn when the language changes (onLanguage).
const STRINGS = {
  title: ["Trung tâm điều hành thông minh — Hải Phòng", "Intelligent operations centre — Hải Phòng"],
  nav_map: ["Bản đồ", "Map"], nav_ranking: ["Xếp hạng", "Ranking"], nav_alerts: ["Cảnh báo", "Alerts"],
  nav_quality: ["Thiết bị & dữ liệu", "Devices & data"],
  live_up: ["Trực tuyến", "Live"], live_connecting: ["Đang kết nối…", "Connecting…"],
  live_down: ["Mất kết nối — đang thử lại", "Disconnected — retrying"],
  sound_on: ["Âm thanh: bật", "Sound: on"], sound_off: ["Âm thanh: tắt", "Sound: off"],
  notify: ["Thông báo", "Notifications"], wall: ["Chế độ màn hình lớn", "Wall mode"],
  wall_exit: ["Thoát màn hình lớn", "Leave wall mode"],
  lang_switch: ["English", "Tiếng Việt"], logout: ["Đăng xuất", "Log out"],
  markers: ["Thiết bị trên bản đồ:", "Devices on the map:"],
  kind_air_quality: ["Không khí", "Air"], kind_weather: ["Thời tiết", "Weather"], kind_noise: ["Tiếng ồn", "Noise"],
  kind_water_level: ["Mực nước", "Water level"], kind_traffic: ["Giao thông", "Traffic"],
  ranking_communes: ["Xã, phường xếp theo AQI (xấu nhất trước)", "Communes by AQI (worst first)"],
  ranking_groups: ["Theo địa bàn cũ (quận, huyện, thành phố)", "By former district"],
  alerts_open: ["Cảnh báo đang mở", "Open alerts"],
  quality_title: ["Dữ liệu đúng, đủ, sạch, sống", "Data: correct, complete, clean, live"],
  completeness_title: ["Độ đầy đủ theo xã và giờ (24 giờ qua)", "Completeness by commune and hour (last 24 h)"],
  devices_attention: ["Thiết bị cần chú ý", "Devices needing attention"],
  login_title: ["Khóa truy cập API", "API key"],
  login_help: ["Dán khóa do quản trị viên cấp (citysense api-keys create).",
               "Paste the key an administrator gave you (citysense api-keys create)."],
  login_submit: ["Mở bảng điều khiển", "Open the dashboard"],
  login_bad: ["Khóa không hợp lệ hoặc đã bị thu hồi", "The key is unknown or revoked"],
  legend: ["AQI (QĐ 1459/QĐ-TCMT)", "AQI (Decision 1459/QĐ-TCMT)"], no_data: ["Chưa có dữ liệu", "No data"],
  col_rank: ["#", "#"], col_area: ["Địa bàn", "Area"], col_group: ["Địa bàn cũ", "Former district"],
  col_aqi: ["AQI", "AQI"], col_level: ["Mức", "Level"], col_dominant: ["Chất chính", "Dominant"],
  col_trend: ["Xu hướng", "Trend"], col_hour: ["Giờ", "Hour"], col_worst: ["Xã xấu nhất", "Worst commune"],
  col_severity: ["Mức độ", "Severity"], col_rule: ["Quy tắc", "Rule"], col_value: ["Giá trị", "Value"],
  col_since: ["Từ lúc", "Since"], col_state: ["Trạng thái", "State"], col_actions: ["Thao tác", "Actions"],
  col_device: ["Thiết bị", "Device"], col_kind: ["Loại", "Kind"], col_last_seen: ["Lần cuối", "Last seen"],
  col_problem: ["Vấn đề", "Problem"], col_limit: ["Giới hạn", "Limit"], col_metric: ["Chỉ số", "Metric"],
  col_assignee: ["Người xử lý", "Assignee"],
  act_ack: ["Xác nhận", "Acknowledge"], act_assign: ["Giao", "Assign"], act_comment: ["Ghi chú", "Comment"],
  act_close: ["Đóng", "Close"], ask_assignee: ["Giao cho ai (người hoặc tổ)?", "Assign to whom (person or team)?"],
  ask_comment: ["Ghi chú:", "Comment:"], ask_reason: ["Lý do đóng:", "Reason for closing:"],
  op_new: ["Mới", "New"], op_acknowledged: ["Đã xác nhận", "Acknowledged"], op_closed: ["Đã đóng", "Closed"],
  sev_warning: ["Cảnh báo", "Warning"], sev_critical: ["Nghiêm trọng", "Critical"], sev_info: ["Thông tin", "Info"],
  rule_aqi_bad: ["AQI vượt ngưỡng", "AQI above threshold"], rule_limit: ["Vượt QCVN 05:2023", "Above QCVN 05:2023"],
  rule_noise_over_limit: ["Tiếng ồn vượt QCVN 26", "Noise above QCVN 26"],
  rule_flood: ["Mực nước vượt báo động", "Water above flood level"],
  rule_congestion: ["Ùn tắc", "Congestion"], rule_device_silent: ["Thiết bị im lặng", "Device silent"],
  no_alerts: ["Không có cảnh báo đang mở", "No open alerts"], not_stored: ["Cảnh báo chưa được lưu, thử lại sau giây lát",
    "The alert is not stored yet; try again in a moment"],
  alert_new: ["Cảnh báo mới", "New alert"],
  panel_now: ["AQI giờ gần nhất", "Latest hourly AQI"], panel_24h: ["AQI theo giờ, 24 giờ qua", "Hourly AQI, last 24 h"],
  panel_7d: ["AQI theo giờ, 7 ngày qua", "Hourly AQI, last 7 days"], panel_air: ["Không khí so với QCVN 05:2023",
    "Air against QCVN 05:2023"], panel_weather: ["Thời tiết", "Weather"],
  panel_noise: ["Tiếng ồn so với QCVN 26:2010", "Noise against QCVN 26:2010"],
  panel_water: ["Mực nước so với mức báo động", "Water levels against flood thresholds"],
  panel_traffic: ["Giao thông", "Traffic"], panel_devices: ["Thiết bị", "Devices"],
  panel_completeness: ["Độ đầy đủ 24 giờ qua", "Completeness, last 24 h"], panel_alerts: ["Cảnh báo đang mở", "Open alerts"],
  panel_close: ["Đóng", "Close"], health_advice: ["Khuyến nghị sức khỏe", "Health advice"],
  window_of: ["cửa sổ", "window"], vehicles: ["Lượt xe", "Vehicles"], speed: ["Tốc độ TB", "Mean speed"],
  temperature: ["Nhiệt độ", "Temperature"], humidity: ["Độ ẩm", "Humidity"], rainfall: ["Lượng mưa", "Rainfall"],
  wind: ["Gió", "Wind"], threshold: ["Mức báo động", "Flood threshold"], zone_special: ["khu đặc biệt", "special zone"],
  zone_normal: ["khu thông thường", "normal zone"], day: ["ngày", "day"], night: ["đêm", "night"],
  st_ok: ["Bình thường", "OK"], st_silent: ["Im lặng", "Silent"], st_calibrating: ["Đang hiệu chuẩn", "Calibrating"],
  st_error: ["Lỗi", "Error"], st_clock: ["Lệch đồng hồ", "Clock skew"], st_rejects: ["Bị loại", "Rejected"],
  st_inactive: ["Ngừng hoạt động", "Inactive"],
  q_devices: ["Thiết bị", "Devices"], q_reporting: ["Gửi dữ liệu (1 giờ)", "Reporting (1 h)"],
  q_silent: ["Im lặng", "Silent"], q_calibrating: ["Hiệu chuẩn / lỗi", "Calibrating / error"],
  q_skew: ["Lệch đồng hồ", "Clock skew"], q_rejects: ["Bản tin bị loại (24 giờ)", "Rejected messages (24 h)"],
  q_completeness: ["Độ đầy đủ (24 giờ)", "Completeness (24 h)"],
  as_of: ["lúc", "at"], stale: ["dữ liệu cũ", "old data"], none: ["—", "—"], of: ["trên", "of"],
};

let lang = globalThis.localStorage?.getItem("citysense.lang") === "en" ? "en" : "vi";
const listeners = [];

export function t(key) {
  const pair = STRINGS[key];
  return pair ? pair[lang === "vi" ? 0 : 1] : key;
}

export function language() { return lang; }

export function pairs() { return Object.entries(STRINGS); }

export function apply(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

export function setLanguage(next) {
  lang = next;
  localStorage.setItem("citysense.lang", lang);
  apply();
  for (const fn of listeners) fn(lang);
}

export function onLanguage(fn) { listeners.push(fn); }

// An alert rule's name: limit_<pollutant>_<averaging> (QCVN 05:2023) or a named rule.
export function ruleName(rule) {
  const limit = /^limit_(.+)_(1h|8h|24h)$/.exec(rule);
  if (limit) {
    const name = { pm2_5: "PM2.5", pm10: "PM10", o3: "O₃", no2: "NO₂", so2: "SO₂", co: "CO" }[limit[1]] || limit[1];
    return `${t("rule_limit")}: ${name} (${limit[2].replace("h", " h")})`;
  }
  return STRINGS[`rule_${rule}`] ? t(`rule_${rule}`) : rule;
}

export function fmtTime(iso) {
  if (!iso) return t("none");
  return new Date(iso).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB",
    { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit" });
}

export function fmtNum(v, digits = 1) {
  if (v === null || v === undefined || Number.isNaN(v)) return t("none");
  return Number(v).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: digits });
}
