"""The sandbox AWS: a moto server plus what AWS does that moto does not (CloudTrail log files).

A development, demo and test tool. Production code never imports it.
"""
