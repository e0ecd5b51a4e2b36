"""Home-isolation (F0) monitoring: cases, scheduled check-ins by Zalo or SMS, readings parsed from replies,
and alerts to the ward's medical team when a patient worsens (issue 17).

Part of intake, which owns contacts with citizens: it uses intake's tickets, journal hook and messaging.
It must not import dashboards, social_monitor or hotline.
"""
