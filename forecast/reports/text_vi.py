"""Vietnamese wording of the reports (headings, captions, labels, sentence templates).

Every user-visible string of a Vietnamese report lives here; :mod:`text_en` has the same
keys. Templates use ``str.format`` fields. Text is NFC (precomposed) Vietnamese.
"""

from __future__ import annotations

SYNTHETIC_LABEL = "Dữ liệu minh họa tổng hợp (synthetic) — không phải số liệu thống kê chính thức"

TEXT: dict[str, str] = {
    # cover and running heads
    "agency_ministry": "BỘ CÔNG THƯƠNG",
    "agency_dept": "CỤC ĐỔI MỚI SÁNG TẠO, CHUYỂN ĐỔI XANH VÀ KHUYẾN CÔNG",
    "title": "BÁO CÁO TRIỂN VỌNG THỊ TRƯỜNG\nSẢN PHẨM CÔNG NGHIỆP NÔNG THÔN",
    "title_short": "Triển vọng thị trường sản phẩm CNNT",
    "cover_period": "Kỳ báo cáo: {period}",
    "cover_horizon": "Dự báo đến {period}",
    "cover_issue": "Ngày phát hành: {date}",
    "cover_run": "Mã lần chạy: {run_id}",
    "cover_vintage": "Phiên bản dữ liệu: {vintage}",
    "cover_synthetic_note": (
        "Báo cáo được lập từ bộ dữ liệu minh họa tổng hợp, dùng để trình diễn hệ thống dự "
        "báo. Số liệu theo tỉnh, theo thị trường và tiêu thụ trong nước là số liệu giả lập; "
        "không trích dẫn như số liệu thống kê chính thức."
    ),
    "contents": "Nội dung",
    "page": "Trang {n}/{total}",
    # sections
    "sec_summary": "Tóm tắt – Điểm nhấn",
    "sec_overview": "Tổng quan kỳ qua",
    "sec_export": "Thị trường xuất khẩu",
    "sec_domestic": "Thị trường trong nước",
    "sec_forecast": "Dự báo",
    "sec_linkage": "Liên kết vùng và lợi thế so sánh",
    "sec_position": "Vị thế, lợi thế so sánh và liên kết của địa phương",
    "sec_recommend": "Nhận định và khuyến nghị cho địa phương",
    "sec_appendix": "Phụ lục",
    # table headings
    "col_product": "Nhóm/ngành hàng",
    "col_market": "Thị trường",
    "col_region": "Vùng",
    "col_province": "Tỉnh/thành phố",
    "col_category": "Ngành hàng",
    "col_mom": "+/- so với {prev} (%)",
    "col_yoy": "+/- so với cùng kỳ (%)",
    "col_share": "Tỷ trọng (%)",
    "col_growth12": "Dự báo {span} tới (+/- %)",
    "col_trend": "Xu hướng",
    "col_next": "Dự báo {span} tới ({range})",
    "col_change": "+/- (%)",
    "col_p_decline": "Xác suất giảm (%)",
    "col_period": "Kỳ",
    "col_point": "Điểm",
    "col_interval": "Khoảng {level}%",
    "col_low": "Cận dưới",
    "col_high": "Cận trên",
    "col_lq": "LQ",
    "col_lq_change": "Thay đổi LQ 3 năm",
    "col_rank_nat": "Xếp hạng cả nước",
    "col_rank_region": "Xếp hạng trong vùng",
    "col_share_nat": "Tỷ trọng cả nước (%)",
    "col_value12": "Giá trị 12 tháng qua",
    "col_provinces_lq": "Các tỉnh có LQ > 1",
    "col_partner": "Địa phương đối tác",
    "col_correlation": "Hệ số tương quan",
    "col_leaders": "Địa phương dẫn đầu (LQ)",
    "col_hhi": "HHI",
    "col_top_dest": "Thị trường lớn nhất (tỷ trọng)",
    "col_level": "Cấp chuỗi",
    "col_series": "Số chuỗi",
    "col_models": "Mô hình được chọn (số chuỗi)",
    "col_stage": "Giai đoạn",
    "col_mase": "MASE",
    "col_smape": "sMAPE (%)",
    "col_cov": "Độ phủ {level}% (%)",
    "col_batch": "Lô",
    "col_file": "Tệp nguồn",
    "col_source": "Nguồn",
    "col_rows": "Số dòng",
    "col_periods": "Kỳ dữ liệu",
    "col_ingested": "Thời điểm nạp",
    "col_export_share": "Tỷ trọng XK (%)",
    "col_top_category": "Ngành hàng lớn nhất",
    "col_term": "Thuật ngữ",
    "col_meaning": "Giải thích",
    "row_total": "Tổng",
    "row_total_export": "Tổng kim ngạch xuất khẩu",
    "row_other_markets": "Thị trường khác",
    "row_dest_sum": "Cộng các thị trường",
    "bloc_EU": "EU (27 nước)",
    "bloc_ASEAN": "ASEAN (Đông Nam Á)",
    "market_total": "Tổng",
    "market_domestic": "Trong nước",
    "market_export": "Xuất khẩu",
    "stage_base": "trước hòa hợp",
    "stage_reconciled": "sau hòa hợp",
    "rank_of": "{rank}/{n}",
    # units, notes and captions
    "unit": "ĐVT: {unit}",
    "table": "Bảng {n}",
    "figure": "Hình {n}",
    "source_note": ("Nguồn: {sources}; tính toán và dự báo của hệ thống dự báo thị trường CNNT."),
    "forecast_label": "dự báo",
    "estimate_note": (
        "Số liệu kỳ {period} là sơ bộ; các cột dự báo là giá trị dự báo (chưa phải số thực hiện)."
    ),
    "no_data": "Không có số liệu cho mục này trong lần chạy {run_id}.",
    "cap_overview": "Giá trị tiêu thụ sản phẩm CNNT (trong nước và xuất khẩu) {ytd}",
    "cap_history": (
        "Giá trị tiêu thụ hằng tháng {range}; dải tô nhạt đánh dấu tháng Tết Nguyên đán"
    ),
    "cap_history_plain": "Giá trị tiêu thụ {every} ({range})",
    "every_M": "hằng tháng",
    "every_Q": "hằng quý",
    "every_Y": "hằng năm",
    "prev_M": "tháng trước",
    "prev_Q": "quý trước",
    "prev_Y": "năm trước",
    "cap_export_markets": "Xuất khẩu sản phẩm CNNT theo thị trường {ytd}",
    "cap_export_products": "Kim ngạch xuất khẩu theo ngành hàng {ytd}",
    "cap_top10": "10 thị trường xuất khẩu lớn nhất {ytd}, tỷ trọng (%)",
    "cap_top10_sum": (
        "10 thị trường xuất khẩu lớn nhất {ytd}, tỷ trọng trong tổng các thị trường (%)"
    ),
    "markets_gap_note": (
        "Ghi chú: số liệu theo thị trường là nguồn riêng (xuất khẩu toàn quốc theo nước nhập "
        "khẩu), không cộng từ số liệu của các tỉnh. {ytd_cap}, tổng các thị trường là {value}, "
        "{direction} {pct} so với tổng kim ngạch xuất khẩu của các tỉnh. Tỷ trọng (%) của "
        "các thị trường tính trên tổng các thị trường; dự báo theo thị trường được điều chỉnh "
        "để cộng đúng bằng tổng kim ngạch xuất khẩu."
    ),
    "csv_destination_gap": (
        "Lịch sử các thị trường 12 kỳ qua (nguồn riêng) cộng lại {direction} {pct} so với "
        "tổng kim ngạch xuất khẩu; dự báo theo thị trường đã điều chỉnh để cộng bằng tổng"
    ),
    "gap_more": "cao hơn",
    "gap_less": "thấp hơn",
    "share_of_total": "tỷ trọng",
    "share_of_dest_sum": "tổng các thị trường",
    "cap_domestic_products": "Tiêu thụ trong nước theo nhóm và ngành hàng {ytd}",
    "cap_domestic_geo": "Tiêu thụ trong nước theo {geo} {ytd}",
    "cap_geo_bars": "Tiêu thụ trong nước theo {geo} {ytd} và +/- so với cùng kỳ",
    "geo_regions": "vùng kinh tế - xã hội",
    "geo_provinces": "tỉnh, thành phố trong vùng",
    "cap_fan_total": (
        "Giá trị tiêu thụ: thực tế và dự báo {range} (đường đứt: dự báo điểm; dải đậm: "
        "khoảng 80%; dải nhạt: khoảng 95%)"
    ),
    "cap_fan_categories": "Dự báo theo ngành hàng {range} (khoảng 80% và 95%)",
    "fans_limited": (
        "Biểu đồ cho {shown} ngành hàng lớn nhất trong tổng số {total} ngành hàng; dự báo "
        "của mọi ngành hàng có trong các bảng và tệp CSV."
    ),
    "cap_forecast_table": "Dự báo giá trị tiêu thụ {spans} tới theo ngành hàng",
    "and": "và",
    "cap_monthly": "Dự báo {every} giá trị tiêu thụ ({scope}), khoảng dự báo",
    "cap_linkage": "Nhóm liên kết theo ngành hàng (các địa phương có LQ > 1)",
    "cap_leaders": "Địa phương có lợi thế so sánh cao nhất theo ngành hàng (LQ > 1)",
    "cap_position": "Vị thế của địa phương theo ngành hàng (12 tháng qua)",
    "cap_position_total": "Vị thế chung của địa phương (12 tháng qua)",
    "cap_lq_chart": "Hệ số lợi thế so sánh (LQ) theo ngành hàng; LQ > 1: chuyên môn hóa",
    "lq_limited": "{shown} ngành hàng có LQ cao nhất trong tổng số {total}; bảng liệt kê đầy đủ.",
    "cap_partners": "Địa phương đối tác tiềm năng (tăng trưởng cùng chiều)",
    "cap_concentration": "Mức độ tập trung thị trường xuất khẩu theo ngành hàng (HHI)",
    "cap_sources": "Nguồn dữ liệu và phiên bản",
    "cap_models": "Mô hình được chọn theo nhóm chuỗi",
    "cap_accuracy": "Độ chính xác kiểm định ngược (backtest) của dự báo được chọn",
    "cap_provinces": "Giá trị tiêu thụ theo tỉnh, thành phố {ytd}",
    "cap_glossary": "Thuật ngữ",
    "chart_actual": "Thực tế",
    "chart_forecast": "Dự báo",
    "chart_band": "Khoảng {level}%",
    "chart_tet": "Tết",
    "chart_domestic": "Trong nước",
    "chart_export": "Xuất khẩu",
    "chart_total": "Tổng",
    "chart_lq_line": "LQ = 1",
    # linkage and position prose
    "focus": "TIÊU ĐIỂM",
    "focus_title": "Liên kết vùng ngành {category}",
    "focus_body": (
        "{n} địa phương có lợi thế so sánh (LQ > 1) về {category} ({market}) tại {regions}: "
        "{provinces}. Giá trị 12 tháng qua của nhóm đạt {value}; triển vọng 12 tháng tới "
        "{outlook}."
    ),
    "focus_proposal": (
        "Đề xuất: xây dựng dự án khuyến công liên tỉnh theo chuỗi giá trị (vùng nguyên liệu "
        "→ cơ sở chế biến tại làng nghề → doanh nghiệp xuất khẩu), dùng chung trung tâm thiết "
        "kế mẫu mã và xúc tiến thương mại."
    ),
    "outlook_growth": "{change} so với cùng kỳ ({trend})",
    "position_intro": (
        "Trong 12 tháng qua, {scope} chiếm {share} tổng giá trị tiêu thụ sản phẩm CNNT cả "
        "nước, xếp thứ {rank_nat} cả nước và thứ {rank_region} trong vùng {region}."
    ),
    "position_lq": "Ngành hàng có lợi thế so sánh (LQ > 1): {items}.",
    "position_no_lq": "Chưa có ngành hàng nào có LQ > 1 trong 12 tháng qua.",
    "partners_intro": (
        "Các địa phương có tăng trưởng cùng chiều với {scope} là đối tác tiềm năng cho liên "
        "kết tiêu thụ, dùng chung nguyên liệu và xúc tiến thương mại."
    ),
    "destinations_note": (
        "Số liệu xuất khẩu theo thị trường chỉ có ở cấp toàn quốc; bảng dưới đây cho biết mức "
        "độ tập trung thị trường của các ngành hàng xuất khẩu chính của địa phương."
    ),
    "forecast_note": (
        "Dự báo được lập cho từng chuỗi số liệu bằng mô hình tốt nhất theo kiểm định ngược, "
        "sau đó hòa hợp để số liệu tỉnh cộng đúng bằng số liệu vùng và toàn quốc. Mùa vụ được "
        "tính đến: giá trị thường giảm trong tháng Tết Nguyên đán và tăng cao vào quý IV."
    ),
    # recommendations
    "rec_basis": "Căn cứ",
    "rec_none": (
        "Không có quy tắc khuyến nghị nào được kích hoạt với số liệu kỳ này; tiếp tục theo "
        "dõi các chỉ tiêu trong kỳ tới."
    ),
    "rec_intro": (
        "Các khuyến nghị dưới đây được sinh tự động từ các chỉ tiêu triển vọng theo quy tắc "
        "công khai; mỗi khuyến nghị ghi rõ quy tắc đã áp dụng và số liệu căn cứ."
    ),
    # appendix
    "app_sources": "A. Nguồn dữ liệu và phiên bản",
    "app_method": "B. Phương pháp",
    "app_models": "C. Mô hình được chọn theo nhóm chuỗi",
    "app_accuracy": "D. Độ chính xác dự báo (kiểm định ngược)",
    "app_provinces": "E. Số liệu chi tiết theo tỉnh, thành phố",
    "app_glossary": "F. Thuật ngữ",
    "app_vintage": (
        "Phiên bản dữ liệu (mã băm trạng thái kho): {vintage}. Lần chạy {run_id}, bắt đầu "
        "{created}. Phương pháp hòa hợp: {reconcile}."
    ),
    "method_1": (
        "Chuỗi số liệu: giá trị tiêu thụ theo tỉnh × ngành hàng × thị trường (trong nước, xuất "
        "khẩu), tổng hợp lên nhóm CNNT, vùng và toàn quốc; xuất khẩu toàn quốc chi tiết theo "
        "nước nhập khẩu. Địa giới theo 34 đơn vị hành chính cấp tỉnh năm 2025."
    ),
    "method_2": (
        "Mô hình: các mô hình ứng viên của lần chạy này ({models}) được kiểm định ngược theo "
        "nhiều điểm gốc (rolling origin). Trong mỗi nhóm chuỗi, mô hình có sai số MASE bình "
        "quân (trên mọi chuỗi và cửa sổ kiểm định của nhóm) nhỏ nhất được chọn cho cả nhóm"
        "{ens_rule}. Chuỗi ngắn, gián đoạn, không đổi hoặc toàn số 0 dùng bộ mô hình dự "
        "phòng riêng. Khoảng dự báo {levels} được hiệu chỉnh theo sai số kiểm định ngược."
    ),
    "method_ens_rule": (
        "; riêng trung bình cộng các mô hình (ens_mean) được giữ trừ khi mô hình dẫn đầu có "
        "sai số nhỏ hơn quá một sai số chuẩn"
    ),
    "rec_default_kept": (
        "{name}, chọn theo kiểm định ngược: là phương pháp mặc định và không phương pháp nào "
        "khác có sai số thấp hơn {windows} với mức chênh quá một sai số chuẩn"
    ),
    "rec_default_unscored": (
        "{name}, phương pháp mặc định: không cửa sổ kiểm định nào có đủ sai số để so sánh"
    ),
    "rec_beat_default": (
        "{name}, chọn theo kiểm định ngược: có sai số thấp hơn phương pháp mặc định "
        "{default} {windows}, với mức chênh quá một sai số chuẩn"
    ),
    "rec_backtest": "{name}, chọn theo kiểm định ngược",
    "rec_no_backtest": "{name} (không có cửa sổ kiểm định ngược để lựa chọn)",
    "rec_config": "{name}, theo thiết lập của người dùng",
    "rec_unknown": "{name}",
    "rec_mase": " (sai số MASE bình quân các cấp {mase})",
    "rec_fallback": (
        "; phương pháp thực dùng là {used} do {name} không tính được với số liệu này (xem "
        "ghi chú của lần chạy)"
    ),
    "rec_base_better": (
        "; dự báo gốc (chưa hòa hợp, các cấp không cộng khớp) có sai số kiểm định ngược thấp hơn"
    ),
    "method_3": (
        "Hòa hợp: dự báo các cấp được điều chỉnh để tổng các tỉnh bằng vùng, tổng các vùng "
        "bằng toàn quốc, tổng ngành hàng bằng nhóm; giá trị không âm."
    ),
    "method_4": (
        "Chỉ tiêu triển vọng: tăng trưởng 3/6/12 tháng tới so với cùng kỳ; xu hướng: tăng "
        "mạnh (≥ {strong}%), tăng (≥ {mild}%), ổn định, giảm (≤ -{mild}%), giảm mạnh "
        "(≤ -{strong}%); xác suất giảm tính từ phân phối dự báo."
    ),
    "no_accuracy": "Lần chạy này không ghi nhận bảng độ chính xác kiểm định ngược.",
    "app_monitoring": "D.2 Độ chính xác thực tế của các dự báo trước (giám sát)",
    "monitoring_note": (
        "Dự báo của các lần chạy đã công bố trước đây được so với số liệu thực tế hiện có, "
        "theo cấp chuỗi; trong ngoặc là kết quả kiểm định ngược của chính lần chạy đó. Cảnh "
        "báo (!) khi MASE lớn hơn {ratio} lần MASE kiểm định ngược (và lớn hơn 1), hoặc khi "
        "độ phủ của khoảng dự báo thấp hơn mức danh nghĩa quá {margin} điểm phần trăm."
    ),
    "cap_monitoring": "Độ chính xác thực tế của các dự báo trước (trong ngoặc: kiểm định ngược)",
    "col_origin": "Dự báo từ kỳ",
    "col_alert": "Cảnh báo",
    # key points
    "kp_headline": (
        "{ytd_cap}, tổng giá trị tiêu thụ sản phẩm CNNT (trong nước và xuất khẩu) của {where} "
        "đạt {value}, {change}; riêng {month} đạt {month_value}, {mom}."
    ),
    "kp_export": "Xuất khẩu đạt {value}, chiếm {share} tổng giá trị, {change}.",
    "kp_export_market": (
        "Xuất khẩu đạt {value}, chiếm {share} tổng giá trị, {change}; thị "
        "trường lớn nhất là {top} ({top_share} {share_of}, {top_change})."
    ),
    "kp_products": (
        "Ngành hàng lớn nhất là {largest} ({share} tổng giá trị); {among}{best}, {worst}."
    ),
    "kp_movers_among": "trong các ngành hàng chiếm từ {share} tổng giá trị trở lên, ",
    "kp_best_up": "tăng mạnh nhất là {name} ({change})",
    "kp_best_down": "giảm ít nhất là {name} ({change})",
    "kp_worst_down": "giảm mạnh nhất là {name} ({change})",
    "kp_worst_up": "tăng chậm nhất là {name} ({change})",
    "kp_headline_one": (
        "{ytd_cap}, tổng giá trị tiêu thụ sản phẩm CNNT (trong nước và xuất khẩu) của {where} "
        "đạt {value}, {change}{mom}."
    ),
    "kp_mom": "; {mom}",
    "vs_year_before": "cùng kỳ năm trước",
    "vs_same_period": "cùng kỳ",
    "kp_forecast": "Dự báo {range} đạt {fc}{interval}{vs}{rest}.",
    "kp_vs": ", {change} so với {base}",
    "kp_vs_none": ", chưa có số liệu cùng kỳ năm trước để so sánh",
    "vs_M": "cùng kỳ",
    "vs_Q": "cùng kỳ",
    "vs_Y": "năm trước",
    "kp_long": "; cả {span} tới dự kiến {change}",
    "kp_long_value": "; cả {span} tới dự báo đạt {value}",
    "kp_trend": ", xu hướng {trend}",
    "kp_interval": " (khoảng 80%: {range})",
    "kp_risk_decline": (
        "Rủi ro chính: {category} có xác suất giảm trong 12 tháng tới là {p} (dự báo {change})."
    ),
    "kp_risk_concentration": (
        "Rủi ro chính: xuất khẩu {category} tập trung vào {top} ({share} tỷ trọng, HHI {hhi})."
    ),
    "kp_risk_concentration_nat": (
        "Rủi ro chính: xuất khẩu {category} của cả nước tập trung vào {top} ({share} tỷ trọng, "
        "HHI {hhi}; số liệu thị trường chỉ có ở cấp toàn quốc)."
    ),
    "kp_risk_none": "Chưa ghi nhận ngành hàng nào có xác suất giảm trên 50% trong 12 tháng tới.",
    "kp_position": (
        "{scope} đứng thứ {rank_nat} cả nước và thứ {rank_region} trong vùng về giá trị tiêu "
        "thụ 12 tháng qua, chiếm {share} tổng giá trị cả nước."
    ),
    # recommendation rules
    "rec_trade_title": "Xúc tiến thương mại cho {category}",
    "rec_trade_text": (
        "Xuất khẩu {category} dự báo {change} trong 12 tháng tới{evidence}. Đề nghị ưu tiên "
        "hỗ trợ doanh nghiệp tham gia hội chợ, kết nối giao thương và khai thác các FTA tại "
        "thị trường chủ lực."
    ),
    "rec_trade_rule": "tăng trưởng xuất khẩu 12 tháng tới ≥ {strong}% và {condition}",
    "rec_cond_lq": "LQ xuất khẩu > 1",
    "rec_cond_share": "tỷ trọng trong xuất khẩu ≥ {share_min}%",
    "rec_ev_lq": "; địa phương có lợi thế so sánh (LQ {lq})",
    "rec_ev_share": "; ngành hàng chiếm {share} kim ngạch xuất khẩu",
    "rec_diversify_title": "Đa dạng hóa thị trường, kênh tiêu thụ cho {category}",
    "rec_diversify_text": (
        "Xác suất giá trị {market} của {category} giảm trong 12 tháng tới là {p} (dự báo "
        "{change}). Khuyến nghị tìm kiếm thị trường và kênh phân phối mới, rà soát đơn hàng, "
        "tồn kho và kế hoạch sản xuất."
    ),
    "rec_diversify_rule": "xác suất giảm 12 tháng tới ≥ {p_min}% và tỷ trọng ≥ {share_min}%",
    "rec_concentration_title": "Giảm rủi ro tập trung thị trường xuất khẩu: {category}",
    "rec_concentration_text": (
        "{top} chiếm {share} kim ngạch xuất khẩu {category} của cả nước (HHI {hhi}). Khuyến "
        "nghị mở rộng sang các thị trường có FTA (EU, CPTPP, RCEP) để giảm phụ thuộc."
    ),
    "rec_concentration_rule": "HHI thị trường xuất khẩu ≥ {hhi_min}",
    "rec_linkage_title": "Dự án liên kết liên tỉnh: {category}",
    "rec_linkage_text": (
        "{provinces} cùng có lợi thế so sánh về {category} ({market}). Đề xuất dự án khuyến "
        "công liên tỉnh: quy hoạch vùng nguyên liệu, đầu tư chung thiết bị chế biến, xây dựng "
        "nhãn hiệu chung và cùng xúc tiến thương mại."
    ),
    "rec_linkage_rule": "nhóm liên kết có ≥ {n_min} địa phương có LQ > 1",
    "rec_support_title": "Hỗ trợ khuyến công cho {category}",
    "rec_support_text": (
        "Tiêu thụ trong nước của {category} dự báo {change} trong 12 tháng tới{evidence}. "
        "Khuyến nghị hỗ trợ đổi mới thiết bị, thiết kế mẫu mã, chương trình kích cầu và đưa "
        "sản phẩm vào hệ thống phân phối hiện đại."
    ),
    "rec_support_rule": "tăng trưởng trong nước 12 tháng tới ≤ -{mild}% và {condition}",
    "rec_cond_share_dom": "tỷ trọng trong tiêu thụ trong nước ≥ {share_min}%",
    "rec_ev_share_dom": "; ngành hàng chiếm {share} tiêu thụ trong nước",
    "rec_data_title": "Nâng cao chất lượng số liệu báo cáo",
    "rec_data_text": (
        "{n} chuỗi số liệu ngành hàng có cảnh báo ({flags}). Đề nghị rà soát, bổ sung số liệu "
        "báo cáo định kỳ để dự báo kỳ sau tin cậy hơn."
    ),
    "rec_data_rule": "có chuỗi ngành hàng mang cảnh báo chất lượng số liệu",
}

TRENDS: dict[str, str] = {
    "strong_rise": "tăng mạnh",
    "rise": "tăng",
    "stable": "ổn định",
    "fall": "giảm",
    "strong_fall": "giảm mạnh",
    "undetermined": "chưa xác định",
    "": "-",
}

#: The same wording as :data:`forecast.outlook.FLAG_LABELS` (tested).
FLAGS: dict[str, str] = {
    "short_history": "chuỗi số liệu ngắn",
    "structural_break": "phát hiện thay đổi cấu trúc",
    "wide_interval": "khoảng dự báo rộng",
    "data_gap": "thiếu số liệu",
    "revised": "số liệu đã điều chỉnh so với lần chạy trước",
}

LEVELS: dict[str, str] = {
    "national": "Toàn quốc",
    "region": "Vùng",
    "province": "Tỉnh",
    "total": "tổng",
    "group": "nhóm CNNT",
    "category": "ngành hàng",
    "domestic": "trong nước",
    "export": "xuất khẩu",
    "destination": "theo nước nhập khẩu",
}

GLOSSARY: tuple[tuple[str, str], ...] = (
    ("CNNT", "Công nghiệp nông thôn: sản phẩm của cơ sở sản xuất, làng nghề ở nông thôn."),
    ("Cùng kỳ", "Cùng kỳ năm trước: cùng tháng, quý hoặc số tháng lũy kế của năm trước."),
    ("Lũy kế", "Tổng từ đầu năm đến hết kỳ báo cáo (ví dụ 9 tháng đầu năm)."),
    ("Tỷ trọng", "Phần trăm của một dòng trong tổng giá trị của bảng."),
    ("Dự báo điểm", "Giá trị dự báo trung tâm của mô hình được chọn."),
    (
        "Khoảng dự báo 80%/95%",
        "Khoảng mà giá trị thực tế được kỳ vọng rơi vào với xác suất 80%/95%.",
    ),
    (
        "Xác suất giảm",
        "Xác suất tổng 12 tháng tới thấp hơn tổng 12 tháng qua, theo phân phối dự báo.",
    ),
    (
        "LQ",
        "Hệ số lợi thế so sánh (location quotient): tỷ trọng của ngành hàng trong địa "
        "phương chia cho tỷ trọng của ngành hàng đó trong cả nước; LQ > 1 là chuyên môn hóa.",
    ),
    (
        "HHI",
        "Chỉ số Herfindahl–Hirschman: tổng bình phương tỷ trọng (%) các thị trường; "
        "trên 2.500 là tập trung cao.",
    ),
    (
        "MASE",
        "Sai số tuyệt đối trung bình chia cho sai số của dự báo Naive mùa vụ; < 1 là tốt "
        "hơn Naive.",
    ),
    ("sMAPE", "Sai số phần trăm tuyệt đối trung bình đối xứng."),
    ("Độ phủ", "Tỷ lệ giá trị thực tế nằm trong khoảng dự báo khi kiểm định ngược."),
    ("Hòa hợp", "Điều chỉnh dự báo để các cấp cộng đúng (MinT, bottom-up, top-down)."),
)


def change(value_text: str, value: float) -> str:
    """``tăng 12,3%`` / ``giảm 3,2%`` / ``tương đương`` (|change| < 0.05%)."""
    if value != value:  # NaN
        return "chưa có số liệu so sánh"
    if abs(value) < 0.05:
        return "tương đương"
    return f"{'tăng' if value > 0 else 'giảm'} {value_text}"


def every_window(n: int) -> str:
    """``trong cả 3 cửa sổ kiểm định`` / ``trong cửa sổ kiểm định duy nhất``."""
    return "trong cửa sổ kiểm định duy nhất" if n == 1 else f"trong cả {n} cửa sổ kiểm định"


def span(n: int, kind: str) -> str:
    """``3 tháng`` / ``2 quý`` / ``năm`` (one year) for ``n`` periods of ``kind``."""
    if kind == "Y":
        return "năm" if n == 1 else f"{n} năm"
    return f"{n} {'quý' if kind == 'Q' else 'tháng'}"


#: Reconciliation methods (codes of ``forecast.reconcile``), with the code in brackets.
RECONCILE_NAMES: dict[str, str] = {
    "base": "không hòa hợp (base)",
    "bottom_up": "từ dưới lên (bottom_up)",
    "top_down": "từ trên xuống (top_down)",
    "mint_shrink": "MinT với ma trận hiệp phương sai co rút (mint_shrink)",
    "wls_var": "bình phương tối thiểu có trọng số theo phương sai sai số (wls_var)",
    "wls_struct": "bình phương tối thiểu có trọng số theo cấu trúc (wls_struct)",
}

#: Model names that differ from the English ones (others: ``Wording.model``).
MODEL_NAMES: dict[str, str] = {
    "snaive": "Naive mùa vụ",
    "drift": "bước ngẫu nhiên có xu hướng (drift)",
    "mean": "trung bình lịch sử",
    "ens_mean": "trung bình cộng các mô hình (ens_mean)",
    "ens_median": "trung vị các mô hình (ens_median)",
    "ens_mean3": "trung bình cộng 3 mô hình tốt nhất (ens_mean3)",
    "ens_median3": "trung vị 3 mô hình tốt nhất (ens_median3)",
}


def change_vs(value_text: str, value: float, vs: str) -> str:
    """``tăng 12,3% so với cùng kỳ`` / ``chưa có số liệu cùng kỳ để so sánh`` (NaN)."""
    if value != value:  # NaN: "chưa có số liệu so sánh so với ..." doubles the verb
        return f"chưa có số liệu {vs} để so sánh"
    return f"{change(value_text, value)} so với {vs}"
