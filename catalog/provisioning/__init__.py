"""Provisioning helpers without Django: what CloudFormation says about a launch, made readable."""
